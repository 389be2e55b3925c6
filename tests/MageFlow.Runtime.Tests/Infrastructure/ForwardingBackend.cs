using MageFlow.Backends;
using MageFlow.Signatures;

namespace MageFlow.Runtime.Tests.Infrastructure;

/// <summary>Passes every call to another backend; a test overrides only the calls it wants to break.</summary>
internal abstract class ForwardingBackend(IMageBackend inner) : IMageBackend
{
    public string StoreId => inner.StoreId;

    public string NewSignatureId(IReadOnlyList<string> related) => inner.NewSignatureId(related);
    public virtual Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken) => inner.CreateSignatureAsync(signature, ttl, cancellationToken);
    public virtual Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken) => inner.GetSignatureAsync(id, cancellationToken);
    public virtual Task<bool> UpdateKwargsAsync(string id, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, CancellationToken cancellationToken) => inner.UpdateKwargsAsync(id, kwargs, cancellationToken);
    public virtual Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken) => inner.DispatchAsync(taskName, envelope, cancellationToken);
    public virtual Task<SignatureStatus?> DispatchSignatureAsync(Envelope envelope, bool awaited, SignatureLifetimes lifetimes, CancellationToken cancellationToken) => inner.DispatchSignatureAsync(envelope, awaited, lifetimes, cancellationToken);
    public virtual Task<string?> CreateContainerAsync(SignatureRecord container, TimeSpan ttl, CancellationToken cancellationToken) => inner.CreateContainerAsync(container, ttl, cancellationToken);
    public virtual Task<SwarmChange> AddToSwarmAsync(string swarmId, IReadOnlyList<SwarmItem> items, SignatureLifetimes lifetimes, CancellationToken cancellationToken) => inner.AddToSwarmAsync(swarmId, items, lifetimes, cancellationToken);
    public virtual Task<SwarmChange> CloseSwarmAsync(string swarmId, SignatureLifetimes lifetimes, CancellationToken cancellationToken) => inner.CloseSwarmAsync(swarmId, lifetimes, cancellationToken);
    public virtual Task<LifecycleChange> ChangeLifecycleAsync(string id, LifecycleAction action, SignatureLifetimes lifetimes, CancellationToken cancellationToken) => inner.ChangeLifecycleAsync(id, action, lifetimes, cancellationToken);
    public virtual IAsyncEnumerable<SignatureRecord> ListSignaturesAsync(SignatureQuery query, CancellationToken cancellationToken) => inner.ListSignaturesAsync(query, cancellationToken);
    public virtual Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken) => inner.SubscribeAsync(kind, onSignal, cancellationToken);
    public virtual Task RegisterTaskDefinitionsAsync(IReadOnlyCollection<TaskDefinition> definitions, CancellationToken cancellationToken) => inner.RegisterTaskDefinitionsAsync(definitions, cancellationToken);
    public virtual Task<TaskDefinition?> GetTaskDefinitionAsync(string name, CancellationToken cancellationToken) => inner.GetTaskDefinitionAsync(name, cancellationToken);
    public virtual Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) => inner.PrepareQueuesAsync(taskNames, cancellationToken);
    public virtual Task<IReadOnlyList<QueueEntry>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken) => inner.ReadAsync(taskNames, consumer, maxCount, wait, cancellationToken);

    /// <summary>Reads through <see cref="ReadAsync"/> and starts nothing: the worker's starts go through <see cref="StartAsync"/>, where a test can break them.</summary>
    public virtual async Task<IReadOnlyList<TakenEntry>> ReadAndStartAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, TimeSpan activeTtl, CancellationToken cancellationToken) =>
        TakenEntry.Unstarted(await ReadAsync(taskNames, consumer, maxCount, wait, cancellationToken));

    /// <summary>Completes through <see cref="CompleteAsync"/> and takes nothing: a test that breaks completions breaks them all.</summary>
    public virtual ValueTask<FinishOutcome> CompleteAndTakeAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, SlotOffer? offer, CancellationToken cancellationToken) =>
        new(CompleteAsync(delivery, resultJson, lifetimes, cancellationToken));

    public virtual Task<IReadOnlyList<QueueEntry>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken) => inner.ReclaimAsync(taskNames, consumer, minIdle, maxCount, cancellationToken);
    public virtual Task<IReadOnlyList<string>> KeepAliveAsync(IReadOnlyCollection<QueueEntry> held, string consumer, TimeSpan activeTtl, CancellationToken cancellationToken) => inner.KeepAliveAsync(held, consumer, activeTtl, cancellationToken);
    public virtual Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    public virtual Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOldestUnacknowledgedAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) => inner.GetOldestUnacknowledgedAsync(taskNames, cancellationToken);

    public virtual Task<DateTimeOffset?> GetOldestUnforwardedAsync(CancellationToken cancellationToken) => inner.GetOldestUnforwardedAsync(cancellationToken);
    public virtual Task<long> TrimQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) => inner.TrimQueuesAsync(taskNames, cancellationToken);
    public virtual Task<int> RemoveIdleConsumersAsync(IReadOnlyCollection<string> taskNames, string? stoppingConsumer, TimeSpan idleFor, CancellationToken cancellationToken) => inner.RemoveIdleConsumersAsync(taskNames, stoppingConsumer, idleFor, cancellationToken);
    public virtual Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken) => inner.PromoteDueRetriesAsync(now, maxCount, cancellationToken);
    public virtual Task<StartOutcome> StartAsync(Delivery delivery, TimeSpan activeTtl, CancellationToken cancellationToken) => inner.StartAsync(delivery, activeTtl, cancellationToken);
    public virtual Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken) => inner.CompleteAsync(delivery, resultJson, lifetimes, cancellationToken);
    public virtual Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, SignatureLifetimes lifetimes, CancellationToken cancellationToken) => inner.FailAsync(delivery, failedInput, failure, lifetimes, cancellationToken);
    public virtual Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, TimeSpan activeTtl, CancellationToken cancellationToken) => inner.RetryLaterAsync(delivery, due, activeTtl, cancellationToken);
    public virtual Task ReleaseAsync(Delivery delivery, string consumer, CancellationToken cancellationToken) => inner.ReleaseAsync(delivery, consumer, cancellationToken);
    public virtual Task ParkAsync(Delivery delivery, CancellationToken cancellationToken) => inner.ParkAsync(delivery, cancellationToken);
    public virtual Task AcknowledgeAsync(MalformedEntry entry, CancellationToken cancellationToken) => inner.AcknowledgeAsync(entry, cancellationToken);
    public virtual ValueTask DisposeAsync() => inner.DisposeAsync();
}
