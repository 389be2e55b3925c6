namespace MageFlow;

/// <summary>
/// A swarm (contract §7): many items run with bounded concurrency; its success callbacks get their results. A swarm
/// is a signature: it has an id and a status, the lifecycle operations (applied to every item), <c>RunAsync</c>
/// (starts it with a message every item receives as its base), and it can be a callback, a chain step or an item.
/// </summary>
public class SwarmSignature : TaskSignature
{
    internal SwarmSignature(MageFlowClient client, Signatures.SignatureRecord record) : base(client, record) { }

    /// <summary>The options it was created with.</summary>
    public SwarmOptions Options => Record.Swarm!.Options;

    /// <summary>Adds an item; it waits until the swarm is started with <c>RunAsync</c>.</summary>
    /// <exception cref="SwarmFullException">Past <see cref="SwarmOptions.MaxTasks"/>.</exception>
    /// <exception cref="SwarmClosedException">The swarm was closed, failed or canceled.</exception>
    public Task AddAsync(TaskSignature item, CancellationToken cancellationToken = default) =>
        AddAsync([item], cancellationToken);

    /// <summary>Adds items, all or none; they wait until the swarm is started with <c>RunAsync</c>.</summary>
    public Task AddAsync(IEnumerable<TaskSignature> items, CancellationToken cancellationToken = default) =>
        Client.AddToSwarmAsync(this, items, null, cancellationToken);

    /// <summary>Adds an item with its message, atomically; it starts as soon as a slot is free.</summary>
    public Task RunInSwarmAsync<TMessage>(TaskSignature<TMessage> item, TMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        return Client.AddToSwarmAsync(this, [item], Client.MessageJson(item.TaskName, message), cancellationToken);
    }

    /// <summary>No more items: the swarm completes once every item has finished.</summary>
    public Task CloseAsync(CancellationToken cancellationToken = default) => Client.CloseSwarmAsync(this, cancellationToken);
}

/// <summary>
/// A swarm whose items return <typeparamref name="TResult"/> (from <c>IMageFlow.SwarmAsync&lt;TResult&gt;</c>): its success
/// callbacks get a list of <typeparamref name="TResult"/>, which the analyzers check against each callback's return
/// member (MAGE001) and each item added (MAGE007), and <see cref="RunAndWaitAsync"/> returns that list typed.
/// </summary>
public sealed class SwarmSignature<TResult> : SwarmSignature
{
    internal SwarmSignature(MageFlowClient client, Signatures.SignatureRecord record) : base(client, record) { }

    /// <summary>
    /// Starts the swarm with <paramref name="message"/> (every item's base) and waits until it completes; returns the
    /// results of the items that succeeded, in completion order.
    /// </summary>
    /// <exception cref="MageTaskFailedException">The swarm failed (<see cref="SwarmOptions.StopAfterFailures"/>).</exception>
    public new Task<IReadOnlyList<TResult>> RunAndWaitAsync<TMessage>(TMessage message, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunAndWaitCoreAsync<TMessage, IReadOnlyList<TResult>>(message, timeout, cancellationToken);
}
