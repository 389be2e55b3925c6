using MageFlow.Signatures;

namespace MageFlow.Backends.InMemory;

/// <summary>
/// The embedded backend: the same semantics as Redis, inside one process. One lock makes every transition
/// atomic; queues keep Redis Streams' consumer-group behaviour (delivered entries stay pending until
/// acknowledged and can be reclaimed after the visibility timeout), so the contract suite runs unchanged.
/// Expired signatures are swept as time passes (like Redis' active expiry), so memory stays bounded by what
/// is alive, not by what ever ran.
/// </summary>
internal sealed class InMemoryBackend(TimeProvider time) : IMageBackend
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredSignature> _signatures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskQueue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskDefinition> _definitions = new(StringComparer.Ordinal);
    private readonly PriorityQueue<ParkedRun, DateTimeOffset> _delayed = new();

    // One entry per stored signature, at the expiry it had when scheduled; the sweep re-schedules when it moved.
    private readonly PriorityQueue<string, DateTimeOffset> _expiries = new();
    private TaskCompletionSource _arrived = NewSignal();
    private long _nextEntryId;

    public InMemoryBackend() : this(TimeProvider.System) { }

    public string StoreId { get; } = $"the in-memory store {Guid.NewGuid():N}";

    /// <summary>Signatures held now, expired ones swept first (for tests of bounded memory).</summary>
    internal int SignatureCount
    {
        get
        {
            lock (_gate)
            {
                Sweep();
                return _signatures.Count;
            }
        }
    }

    public Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Sweep();
            var stored = new StoredSignature(signature);
            _signatures[signature.Id] = stored;
            SetExpiry(stored, time.GetUtcNow() + ttl);
        }
        return Task.CompletedTask;
    }

    public Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken)
    {
        lock (_gate) return Task.FromResult(Find(id)?.Record);
    }

    public Task<bool> UpdateKwargsAsync(string id, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (Find(id) is not { } stored) return Task.FromResult(false);
            var merged = stored.Record.Kwargs.ToList();
            foreach (var (name, json) in kwargs)
            {
                var index = merged.FindIndex(k => string.Equals(k.Key, name, StringComparison.OrdinalIgnoreCase));
                if (index >= 0) merged[index] = new(name, json);
                else merged.Add(new(name, json));
            }
            stored.Record = stored.Record with { Kwargs = merged };
            return Task.FromResult(true);
        }
    }

    public Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken)
    {
        lock (_gate) Enqueue(taskName, envelope);
        return Task.CompletedTask;
    }

    public Task<bool> SetStatusAsync(string id, SignatureStatus status, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (Find(id) is not { } stored) return Task.FromResult(false);
            Transition(stored, status);
            return Task.FromResult(true);
        }
    }

    public Task RegisterTaskDefinitionsAsync(IReadOnlyCollection<TaskDefinition> definitions, CancellationToken cancellationToken)
    {
        lock (_gate)
            foreach (var definition in definitions) _definitions[definition.Name] = definition;
        return Task.CompletedTask;
    }

    public Task<TaskDefinition?> GetTaskDefinitionAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate) return Task.FromResult(_definitions.GetValueOrDefault(name));
    }

    public Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken)
    {
        lock (_gate)
            foreach (var name in taskNames) QueueOf(name);
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<QueueEntry>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            Task signal;
            lock (_gate)
            {
                var batch = new List<QueueEntry>();
                foreach (var name in taskNames)
                {
                    var queue = QueueOf(name);
                    while (batch.Count < maxCount && queue.Ready.TryDequeue(out var entry))
                    {
                        queue.Pending[entry.Id] = new PendingEntry(entry, consumer, time.GetUtcNow());
                        batch.Add(new Delivery(name, entry.Id, entry.Envelope));
                    }
                }
                if (batch.Count > 0) return batch;
                signal = _arrived.Task;
            }
            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero) return [];
            try
            {
                await signal.WaitAsync(left, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return [];
            }
        }
    }

    public Task<IReadOnlyList<QueueEntry>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var reclaimed = new List<QueueEntry>();
        lock (_gate)
        {
            foreach (var name in taskNames)
            {
                var queue = QueueOf(name);
                foreach (var pending in queue.Pending.Values.Where(p => now - p.DeliveredAt >= minIdle).OrderBy(p => p.Entry.Sequence).ToArray())
                {
                    if (reclaimed.Count >= maxCount) break;
                    queue.Pending[pending.Entry.Id] = pending with { Consumer = consumer, DeliveredAt = now };
                    reclaimed.Add(new Delivery(name, pending.Entry.Id, pending.Entry.Envelope));
                }
            }
        }
        return Task.FromResult<IReadOnlyList<QueueEntry>>(reclaimed);
    }

    public Task KeepAliveAsync(IReadOnlyCollection<QueueEntry> held, string consumer, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var entry in held)
            {
                var queue = QueueOf(entry.TaskName);
                if (!queue.Pending.TryGetValue(entry.EntryId, out var pending) || pending.Consumer != consumer) continue;
                queue.Pending[entry.EntryId] = pending with { DeliveredAt = now };
                if (Find(pending.Entry.Envelope.SignatureId) is { } stored) KeepWithCallbacks(stored, now + activeTtl);
            }
        }
        return Task.CompletedTask;
    }

    // Consumers exist here only as names on pending entries: nothing to remove.
    public Task<int> RemoveIdleConsumersAsync(IReadOnlyCollection<string> taskNames, string? stoppingConsumer, TimeSpan idleFor, CancellationToken cancellationToken) =>
        Task.FromResult(0);

    public Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken)
    {
        var moved = 0;
        lock (_gate)
        {
            while (moved < maxCount && _delayed.TryPeek(out var parked, out var due) && due <= now)
            {
                _delayed.Dequeue();
                Enqueue(parked.TaskName, parked.Envelope);
                moved++;
            }
        }
        return Task.FromResult(moved);
    }

    public Task<StartOutcome> StartAsync(Delivery delivery, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var stored = Find(delivery.Envelope.SignatureId);
            if (stored is null)
            {
                Acknowledge(delivery);
                return Task.FromResult(new StartOutcome(StartResult.Missing, null));
            }
            if (!stored.Record.Status.IsRunnable())
            {
                Acknowledge(delivery);
                return Task.FromResult(new StartOutcome(StartResult.NotRunnable, stored.Record));
            }
            if (stored.Record.Status != SignatureStatus.Active) Transition(stored, SignatureStatus.Active);
            stored.Record = stored.Record with { Attempts = stored.Record.Attempts + 1 };
            stored.Stalls = stored.RunningEntryId == delivery.EntryId ? stored.Stalls + 1 : 0;
            stored.RunningEntryId = delivery.EntryId;
            KeepWithCallbacks(stored, time.GetUtcNow() + activeTtl);
            return Task.FromResult(new StartOutcome(StartResult.Started, stored.Record, stored.Stalls));
        }
    }

    public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Acknowledge(delivery);
            var stored = Find(delivery.Envelope.SignatureId);
            if (stored is null || stored.Record.Status != SignatureStatus.Active)
                return Task.FromResult(new FinishOutcome(false, []));
            Transition(stored, SignatureStatus.Done);
            var payload = resultJson.ToArray();
            var missing = DispatchCallbacks(stored.Record.SuccessCallbackIds, id => new Envelope(id, EnvelopeKind.Result, payload), lifetimes.Active);
            ReleaseTree(stored.Record.ErrorCallbackIds, lifetimes.Done);
            Release(stored, lifetimes.Done);
            return Task.FromResult(new FinishOutcome(true, missing));
        }
    }

    public Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Acknowledge(delivery);
            var stored = Find(delivery.Envelope.SignatureId);
            if (stored is null || !stored.Record.Status.IsRunnable())
                return Task.FromResult(new FinishOutcome(false, []));
            Transition(stored, SignatureStatus.Failed);
            var payload = failedInput.ToArray();
            var missing = DispatchCallbacks(stored.Record.ErrorCallbackIds, id => new Envelope(id, EnvelopeKind.ErrorInput, payload, default, failure), lifetimes.Active);
            ReleaseTree(stored.Record.SuccessCallbackIds, lifetimes.Done);
            Release(stored, lifetimes.Done);
            return Task.FromResult(new FinishOutcome(true, missing));
        }
    }

    public Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Only a run still pending is parked: one copy, never one for an entry another worker finished.
            if (!Acknowledge(delivery)) return Task.CompletedTask;
            _delayed.Enqueue(new ParkedRun(delivery.TaskName, delivery.Envelope), due);
            if (Find(delivery.Envelope.SignatureId) is { } stored) KeepWithCallbacks(stored, due + activeTtl);
        }
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(Delivery delivery, string consumer, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (Find(delivery.Envelope.SignatureId) is { } stored && stored.RunningEntryId == delivery.EntryId)
            {
                stored.RunningEntryId = null;
                stored.Record = stored.Record with { Attempts = Math.Max(0, stored.Record.Attempts - 1) };
            }
            var queue = QueueOf(delivery.TaskName);
            if (queue.Pending.TryGetValue(delivery.EntryId, out var pending))
                queue.Pending[delivery.EntryId] = pending with { DeliveredAt = DateTimeOffset.MinValue };
        }
        return Task.CompletedTask;
    }

    public Task AcknowledgeAsync(MalformedEntry entry, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_queues.TryGetValue(entry.TaskName, out var queue)) queue.Pending.Remove(entry.EntryId);
        }
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate) _arrived.TrySetCanceled();
        return ValueTask.CompletedTask;
    }

    // ---- helpers; all called under _gate ----

    private StoredSignature? Find(string id)
    {
        Sweep();
        return _signatures.GetValueOrDefault(id);
    }

    /// <summary>Removes every signature whose time has come; each one is looked at once per scheduled expiry.</summary>
    private void Sweep()
    {
        var now = time.GetUtcNow();
        while (_expiries.TryPeek(out var id, out var at) && at <= now)
        {
            _expiries.Dequeue();
            if (!_signatures.TryGetValue(id, out var stored)) continue;
            if (stored.ExpiresAt <= now) _signatures.Remove(id);
            else _expiries.Enqueue(id, stored.ExpiresAt); // kept alive since it was scheduled
        }
    }

    private void SetExpiry(StoredSignature stored, DateTimeOffset expiresAt)
    {
        var wasScheduled = stored.ExpiresAt != DateTimeOffset.MaxValue;
        var scheduledLater = wasScheduled && stored.ExpiresAt > expiresAt;
        stored.ExpiresAt = expiresAt;
        // A later expiry is picked up when the earlier one comes due; an earlier one needs its own slot.
        if (!wasScheduled || scheduledLater) _expiries.Enqueue(stored.Record.Id, expiresAt);
    }

    /// <summary>Keeps a signature and the callbacks it can still fire until at least <paramref name="until"/> (rule 19).</summary>
    private void KeepWithCallbacks(StoredSignature stored, DateTimeOffset until)
    {
        if (stored.ExpiresAt < until) SetExpiry(stored, until);
        foreach (var id in stored.Record.SuccessCallbackIds.Concat(stored.Record.ErrorCallbackIds))
        {
            if (_signatures.TryGetValue(id, out var callback) && callback.ExpiresAt < until) SetExpiry(callback, until);
        }
    }

    private TaskQueue QueueOf(string taskName)
    {
        if (!_queues.TryGetValue(taskName, out var queue)) _queues[taskName] = queue = new TaskQueue();
        return queue;
    }

    private void Enqueue(string taskName, Envelope envelope)
    {
        var sequence = ++_nextEntryId;
        QueueOf(taskName).Ready.Enqueue(new QueueEntryData($"{sequence}-0", sequence, envelope));
        var arrived = _arrived;
        _arrived = NewSignal();
        arrived.TrySetResult();
    }

    /// <summary>Removes the entry from its queue's pending list; false when it was no longer pending.</summary>
    private bool Acknowledge(Delivery delivery) =>
        _queues.TryGetValue(delivery.TaskName, out var queue) && queue.Pending.Remove(delivery.EntryId);

    private static void Transition(StoredSignature stored, SignatureStatus status) =>
        stored.Record = stored.Record with { LastStatus = stored.Record.Status, Status = status };

    private List<string> DispatchCallbacks(IReadOnlyList<string> ids, Func<string, Envelope> envelope, TimeSpan activeTtl)
    {
        var missing = new List<string>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (Find(id) is { } callback)
            {
                Enqueue(callback.Record.TaskName, envelope(id));
                if (callback.ExpiresAt < time.GetUtcNow() + activeTtl) SetExpiry(callback, time.GetUtcNow() + activeTtl);
            }
            else missing.Add(id);
        }
        return missing;
    }

    /// <summary>Releases callbacks that can never fire now, and every callback below them.</summary>
    private void ReleaseTree(IReadOnlyList<string> roots, TimeSpan doneTtl)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var next = new Stack<string>(roots);
        while (next.TryPop(out var id))
        {
            if (!seen.Add(id) || Find(id) is not { } stored) continue;
            foreach (var child in stored.Record.SuccessCallbackIds.Concat(stored.Record.ErrorCallbackIds)) next.Push(child);
            Release(stored, doneTtl);
        }
    }

    private void Release(StoredSignature stored, TimeSpan doneTtl)
    {
        if (doneTtl <= TimeSpan.Zero) _signatures.Remove(stored.Record.Id);
        else SetExpiry(stored, time.GetUtcNow() + doneTtl);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class StoredSignature(SignatureRecord record)
    {
        public SignatureRecord Record { get; set; } = record;

        public DateTimeOffset ExpiresAt { get; set; } = DateTimeOffset.MaxValue;

        /// <summary>The entry last started and not yet finished or handed back: starting it again is a take-over.</summary>
        public string? RunningEntryId { get; set; }

        public int Stalls { get; set; }
    }

    private sealed record ParkedRun(string TaskName, Envelope Envelope);

    private sealed record QueueEntryData(string Id, long Sequence, Envelope Envelope);

    private sealed record PendingEntry(QueueEntryData Entry, string Consumer, DateTimeOffset DeliveredAt);

    private sealed class TaskQueue
    {
        public Queue<QueueEntryData> Ready { get; } = new();

        public Dictionary<string, PendingEntry> Pending { get; } = new(StringComparer.Ordinal);
    }
}
