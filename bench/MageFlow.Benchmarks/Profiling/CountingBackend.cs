using System.Collections.Concurrent;
using System.Diagnostics;
using MageFlow.Backends;
using MageFlow.Signatures;

namespace MageFlow.Benchmarks.Profiling;

/// <summary>Calls and wall time of one backend operation, across every host that shares the tally.</summary>
internal sealed class OperationTally
{
    private long _calls;
    private long _ticks;
    private long _items;

    public long Calls => Interlocked.Read(ref _calls);

    public double TotalMilliseconds => Interlocked.Read(ref _ticks) * 1000.0 / Stopwatch.Frequency;

    /// <summary>For reads: entries returned.</summary>
    public long Items => Interlocked.Read(ref _items);

    public void Add(long startedAt, long items = 0)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - startedAt);
        Interlocked.Add(ref _items, items);
    }
}

/// <summary>What every <see cref="CountingBackend"/> of one measurement adds up.</summary>
internal sealed class BackendCounters
{
    private long _commandsSent;

    public ConcurrentDictionary<string, OperationTally> Operations { get; } = new(StringComparer.Ordinal);

    /// <summary>Gaps in a run's life between backend calls: where the worker spends time outside Redis.</summary>
    public ConcurrentDictionary<string, OperationTally> Gaps { get; } = new(StringComparer.Ordinal);

    /// <summary>When each delivery was handed out by a read, and when its start transition returned.</summary>
    public ConcurrentDictionary<QueueEntry, long> ReadAt { get; } = new(ReferenceEqualityComparer.Instance);

    public ConcurrentDictionary<Delivery, long> StartedAt { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Commands the Redis backends sent (client side, from StackExchange.Redis counters); 0 on other backends.</summary>
    public long CommandsSent => Interlocked.Read(ref _commandsSent);

    public void AddCommandsSent(long commands) => Interlocked.Add(ref _commandsSent, commands);
}

/// <summary>
/// Wraps a backend to count and time each operation (each one is a round trip on Redis unless served from a
/// read-ahead buffer). Measurement only: it changes nothing that is passed through.
/// </summary>
internal sealed class CountingBackend(IMageBackend inner, bool ownsInner, BackendCounters counters) : IMageBackend
{
    public string StoreId => inner.StoreId;

    public string NewSignatureId(IReadOnlyList<string> related) => inner.NewSignatureId(related);

    private OperationTally Tally(string operation) => counters.Operations.GetOrAdd(operation, _ => new OperationTally());

    private async Task<T> Time<T>(string operation, Task<T> call, Func<T, long>? items = null)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await call.ConfigureAwait(false);
        Tally(operation).Add(started, items?.Invoke(result) ?? 0);
        return result;
    }

    private async Task Time(string operation, Task call)
    {
        var started = Stopwatch.GetTimestamp();
        await call.ConfigureAwait(false);
        Tally(operation).Add(started);
    }

    public Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken) =>
        Time("create signature", inner.CreateSignatureAsync(signature, ttl, cancellationToken));

    public Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken) =>
        Time("get signature", inner.GetSignatureAsync(id, cancellationToken));

    public Task<bool> UpdateKwargsAsync(string id, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, CancellationToken cancellationToken) =>
        Time("update kwargs", inner.UpdateKwargsAsync(id, kwargs, cancellationToken));

    public Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken) =>
        Time("dispatch", inner.DispatchAsync(taskName, envelope, cancellationToken));

    public Task<SignatureStatus?> DispatchSignatureAsync(Envelope envelope, bool awaited, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Time("dispatch signature", inner.DispatchSignatureAsync(envelope, awaited, lifetimes, cancellationToken));

    public Task<string?> CreateContainerAsync(SignatureRecord container, TimeSpan ttl, CancellationToken cancellationToken) =>
        Time("create container", inner.CreateContainerAsync(container, ttl, cancellationToken));

    public Task<SwarmChange> AddToSwarmAsync(string swarmId, IReadOnlyList<SwarmItem> items, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Time("swarm add", inner.AddToSwarmAsync(swarmId, items, lifetimes, cancellationToken));

    public Task<SwarmChange> CloseSwarmAsync(string swarmId, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Time("swarm close", inner.CloseSwarmAsync(swarmId, lifetimes, cancellationToken));

    public Task<LifecycleChange> ChangeLifecycleAsync(string id, LifecycleAction action, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Time("lifecycle", inner.ChangeLifecycleAsync(id, action, lifetimes, cancellationToken));

    public IAsyncEnumerable<SignatureRecord> ListSignaturesAsync(SignatureQuery query, CancellationToken cancellationToken) =>
        inner.ListSignaturesAsync(query, cancellationToken);

    public Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken) =>
        Time("subscribe", inner.SubscribeAsync(kind, onSignal, cancellationToken));

    public Task ParkAsync(Delivery delivery, CancellationToken cancellationToken) =>
        Time("park", inner.ParkAsync(delivery, cancellationToken));

    public Task RegisterTaskDefinitionsAsync(IReadOnlyCollection<TaskDefinition> definitions, CancellationToken cancellationToken) =>
        Time("register definitions", inner.RegisterTaskDefinitionsAsync(definitions, cancellationToken));

    public Task<TaskDefinition?> GetTaskDefinitionAsync(string name, CancellationToken cancellationToken) =>
        Time("get definition", inner.GetTaskDefinitionAsync(name, cancellationToken));

    public Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) =>
        Time("prepare queues", inner.PrepareQueuesAsync(taskNames, cancellationToken));

    public async Task<IReadOnlyList<QueueEntry>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken)
    {
        var batch = await Time("read", inner.ReadAsync(taskNames, consumer, maxCount, wait, cancellationToken), b => b.Count).ConfigureAwait(false);
        var now = Stopwatch.GetTimestamp();
        foreach (var delivery in batch) counters.ReadAt[delivery] = now;
        return batch;
    }

    public async Task<IReadOnlyList<TakenEntry>> ReadAndStartAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        // The backend's own blocking read, when nothing waits, is inside this call: it is not counted as a "read".
        var batch = await Time("read and start", inner.ReadAndStartAsync(taskNames, consumer, maxCount, wait, activeTtl, cancellationToken), b => b.Count).ConfigureAwait(false);
        var now = Stopwatch.GetTimestamp();
        foreach (var taken in batch)
        {
            if (!taken.IsStarted) counters.ReadAt[taken.Entry] = now;
            else if (taken.Entry is Delivery delivery) counters.StartedAt[delivery] = now;
        }
        Tally("read and start: entries started by it").Add(now, batch.Count(taken => taken.IsStarted));
        return batch;
    }

    public Task<IReadOnlyList<QueueEntry>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken) =>
        Time("reclaim", inner.ReclaimAsync(taskNames, consumer, minIdle, maxCount, cancellationToken), batch => batch.Count);

    public Task<IReadOnlyList<string>> KeepAliveAsync(IReadOnlyCollection<QueueEntry> held, string consumer, TimeSpan activeTtl, CancellationToken cancellationToken) =>
        Time("keep alive", inner.KeepAliveAsync(held, consumer, activeTtl, cancellationToken));

    public Task PingAsync(CancellationToken cancellationToken) =>
        Time("ping", inner.PingAsync(cancellationToken));

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOldestUnacknowledgedAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) =>
        Time("oldest unacknowledged", inner.GetOldestUnacknowledgedAsync(taskNames, cancellationToken));

    public Task<DateTimeOffset?> GetOldestUnforwardedAsync(CancellationToken cancellationToken) =>
        Time("oldest unforwarded", inner.GetOldestUnforwardedAsync(cancellationToken));

    public Task<long> TrimQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) =>
        Time("trim queues", inner.TrimQueuesAsync(taskNames, cancellationToken));

    public Task<int> RemoveIdleConsumersAsync(IReadOnlyCollection<string> taskNames, string? stoppingConsumer, TimeSpan idleFor, CancellationToken cancellationToken) =>
        Time("remove idle consumers", inner.RemoveIdleConsumersAsync(taskNames, stoppingConsumer, idleFor, cancellationToken));

    public Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken) =>
        Time("promote retries", inner.PromoteDueRetriesAsync(now, maxCount, cancellationToken));

    public async Task<StartOutcome> StartAsync(Delivery delivery, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        if (counters.ReadAt.TryRemove(delivery, out var readAt)) Gap("read returned → start called (waiting for a slot, Task.Run)", readAt);
        var outcome = await Time("start", inner.StartAsync(delivery, activeTtl, cancellationToken)).ConfigureAwait(false);
        counters.StartedAt[delivery] = Stopwatch.GetTimestamp();
        return outcome;
    }

    public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        if (counters.StartedAt.TryRemove(delivery, out var startedAt)) Gap("start returned → complete called (compose input, run handler, continuations)", startedAt);
        return Time("complete", inner.CompleteAsync(delivery, resultJson, lifetimes, cancellationToken));
    }

    public async ValueTask<FinishOutcome> CompleteAndTakeAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, SlotOffer? offer, CancellationToken cancellationToken)
    {
        if (counters.StartedAt.TryRemove(delivery, out var startedAt)) Gap("start returned → complete called (compose input, run handler, continuations)", startedAt);
        var completed = await Time(offer is null ? "complete" : "complete and take", inner.CompleteAndTakeAsync(delivery, resultJson, lifetimes, offer, cancellationToken).AsTask()).ConfigureAwait(false);
        if (offer is null) return completed;
        var now = Stopwatch.GetTimestamp();
        if (completed.Next is { IsStarted: true, Entry: Delivery next }) counters.StartedAt[next] = now;
        Tally("complete and take: entries started by it").Add(now, completed.Next is { IsStarted: true } ? 1 : 0);
        return completed;
    }

    private void Gap(string name, long since) => counters.Gaps.GetOrAdd(name, _ => new OperationTally()).Add(since);

    public Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Time("fail", inner.FailAsync(delivery, failedInput, failure, lifetimes, cancellationToken));

    public Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, TimeSpan activeTtl, CancellationToken cancellationToken) =>
        Time("retry later", inner.RetryLaterAsync(delivery, due, activeTtl, cancellationToken));

    public Task ReleaseAsync(Delivery delivery, string consumer, CancellationToken cancellationToken) =>
        Time("release", inner.ReleaseAsync(delivery, consumer, cancellationToken));

    public Task AcknowledgeAsync(MalformedEntry entry, CancellationToken cancellationToken) =>
        Time("acknowledge", inner.AcknowledgeAsync(entry, cancellationToken));

    public ValueTask DisposeAsync()
    {
        // Read before the connections close: each host's backend counts its own connections from zero.
        if (inner is Backends.Redis.RedisBackend redis) counters.AddCommandsSent(redis.CommandsSent);
        return ownsInner ? inner.DisposeAsync() : ValueTask.CompletedTask;
    }
}
