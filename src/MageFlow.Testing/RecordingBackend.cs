using MageFlow.Backends;
using MageFlow.Backends.InMemory;
using MageFlow.Signatures;

namespace MageFlow.Testing;

/// <summary>
/// The in-memory backend with a recorder on its producer side: whatever the code under test stores or dispatches goes
/// to the real in-memory store (so statuses, lifecycle and swarm limits behave as in production), and after each
/// call that can queue a run the recorder takes what was queued. No worker may read it: the recorder is the consumer.
/// </summary>
internal sealed class RecordingBackend(MageRecorder recorder, InMemoryBackend store) : IMageBackend, IDisposable
{
    public InMemoryBackend Store { get; } = store;

    public string StoreId => Store.StoreId;

    public string NewSignatureId(IReadOnlyList<string> related) => Store.NewSignatureId(related);

    public async Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken)
    {
        await Store.CreateSignatureAsync(signature, ttl, cancellationToken).ConfigureAwait(false);
        recorder.SignatureCreated(signature);
    }

    public Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken) => Store.GetSignatureAsync(id, cancellationToken);

    public async Task<bool> UpdateKwargsAsync(string id, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, CancellationToken cancellationToken)
    {
        if (!await Store.UpdateKwargsAsync(id, kwargs, cancellationToken).ConfigureAwait(false)) return false;
        if (await Store.GetSignatureAsync(id, cancellationToken).ConfigureAwait(false) is { } stored) recorder.KwargsUpdated(stored);
        return true;
    }

    public async Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken)
    {
        await Store.DispatchAsync(taskName, envelope, cancellationToken).ConfigureAwait(false);
        await recorder.TakeQueuedRunsAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<SignatureStatus?> DispatchSignatureAsync(Envelope envelope, bool awaited, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var status = await Store.DispatchSignatureAsync(envelope, awaited, lifetimes, cancellationToken).ConfigureAwait(false);
        await recorder.TakeQueuedRunsAsync(cancellationToken).ConfigureAwait(false);
        return status;
    }

    public async Task<string?> CreateContainerAsync(SignatureRecord container, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var problem = await Store.CreateContainerAsync(container, ttl, cancellationToken).ConfigureAwait(false);
        if (problem is null) recorder.SignatureCreated(container);
        return problem;
    }

    public async Task<SwarmChange> AddToSwarmAsync(string swarmId, IReadOnlyList<SwarmItem> items, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var change = await Store.AddToSwarmAsync(swarmId, items, lifetimes, cancellationToken).ConfigureAwait(false);
        if (change.Result == SwarmChangeResult.Done) recorder.ItemsAdded(swarmId, items.Select(item => item.Id));
        await recorder.TakeQueuedRunsAsync(cancellationToken).ConfigureAwait(false);
        return change;
    }

    public async Task<SwarmChange> CloseSwarmAsync(string swarmId, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var change = await Store.CloseSwarmAsync(swarmId, lifetimes, cancellationToken).ConfigureAwait(false);
        await recorder.TakeQueuedRunsAsync(cancellationToken).ConfigureAwait(false);
        return change;
    }

    public async Task<LifecycleChange> ChangeLifecycleAsync(string id, LifecycleAction action, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var change = await Store.ChangeLifecycleAsync(id, action, lifetimes, cancellationToken).ConfigureAwait(false);
        await recorder.TakeQueuedRunsAsync(cancellationToken).ConfigureAwait(false);
        return change;
    }

    public IAsyncEnumerable<SignatureRecord> ListSignaturesAsync(SignatureQuery query, CancellationToken cancellationToken) =>
        Store.ListSignaturesAsync(query, cancellationToken);

    public Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken) =>
        Store.SubscribeAsync(kind, onSignal, cancellationToken);

    public Task RegisterTaskDefinitionsAsync(IReadOnlyCollection<TaskDefinition> definitions, CancellationToken cancellationToken) =>
        Store.RegisterTaskDefinitionsAsync(definitions, cancellationToken);

    public Task<TaskDefinition?> GetTaskDefinitionAsync(string name, CancellationToken cancellationToken) => Store.GetTaskDefinitionAsync(name, cancellationToken);

    // ---- the worker side: the recorder is the only consumer ----

    // A worker calls this as it starts, and a NotSupportedException (a store it cannot use) fails the host's start:
    // better than a worker that silently never gets a run.
    public Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) =>
        throw new NotSupportedException(
            "MageFlow is configured with UseRecording(), which runs no worker: the MageRecorder takes every run (run one with MageRecorder.ExecuteAsync). " +
            "Remove AddMageFlowWorker(), or configure UseInMemory() to run the tasks in this process with a real worker.");

    public Task<IReadOnlyList<QueueEntry>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken) =>
        Store.ReadAsync(taskNames, consumer, maxCount, wait, cancellationToken);

    public Task<IReadOnlyList<QueueEntry>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken) =>
        Store.ReclaimAsync(taskNames, consumer, minIdle, maxCount, cancellationToken);

    public Task<IReadOnlyList<string>> KeepAliveAsync(IReadOnlyCollection<QueueEntry> held, string consumer, TimeSpan activeTtl, CancellationToken cancellationToken) =>
        Store.KeepAliveAsync(held, consumer, activeTtl, cancellationToken);

    public Task<int> RemoveIdleConsumersAsync(IReadOnlyCollection<string> taskNames, string? stoppingConsumer, TimeSpan idleFor, CancellationToken cancellationToken) =>
        Store.RemoveIdleConsumersAsync(taskNames, stoppingConsumer, idleFor, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => Store.PingAsync(cancellationToken);

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOldestUnacknowledgedAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) =>
        Store.GetOldestUnacknowledgedAsync(taskNames, cancellationToken);

    public Task<DateTimeOffset?> GetOldestUnforwardedAsync(CancellationToken cancellationToken) => Store.GetOldestUnforwardedAsync(cancellationToken);

    public Task<long> TrimQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) => Store.TrimQueuesAsync(taskNames, cancellationToken);

    public Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken) =>
        Store.PromoteDueRetriesAsync(now, maxCount, cancellationToken);

    public Task<StartOutcome> StartAsync(Delivery delivery, TimeSpan activeTtl, CancellationToken cancellationToken) => Store.StartAsync(delivery, activeTtl, cancellationToken);

    public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Store.CompleteAsync(delivery, resultJson, lifetimes, cancellationToken);

    public Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Store.FailAsync(delivery, failedInput, failure, lifetimes, cancellationToken);

    public Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, TimeSpan activeTtl, CancellationToken cancellationToken) =>
        Store.RetryLaterAsync(delivery, due, activeTtl, cancellationToken);

    public Task ReleaseAsync(Delivery delivery, string consumer, CancellationToken cancellationToken) => Store.ReleaseAsync(delivery, consumer, cancellationToken);

    public Task ParkAsync(Delivery delivery, CancellationToken cancellationToken) => Store.ParkAsync(delivery, cancellationToken);

    public Task AcknowledgeAsync(MalformedEntry entry, CancellationToken cancellationToken) => Store.AcknowledgeAsync(entry, cancellationToken);

    public ValueTask DisposeAsync() => Store.DisposeAsync();

    // A test's `using var services = ...BuildServiceProvider()` disposes synchronously: the in-memory store holds nothing to wait for.
    public void Dispose() => Store.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
