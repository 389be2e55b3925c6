using MageFlow.Signatures;

namespace MageFlow.Backends.InMemory;

/// <summary>
/// The embedded backend: the same semantics as Redis, inside one process. One lock makes every transition
/// atomic; queues keep Redis Streams' consumer-group behaviour (delivered entries stay pending until
/// acknowledged and can be reclaimed after the visibility timeout), so the contract suite runs unchanged.
/// </summary>
internal sealed class InMemoryBackend(TimeProvider time) : IMageBackend
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredSignature> _signatures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskQueue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskDefinition> _definitions = new(StringComparer.Ordinal);
    private readonly PriorityQueue<(string TaskName, Envelope Envelope), DateTimeOffset> _delayed = new();
    private TaskCompletionSource _arrived = NewSignal();
    private long _nextEntryId;

    public InMemoryBackend() : this(TimeProvider.System) { }

    public Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate) _signatures[signature.Id] = new StoredSignature(signature, time.GetUtcNow() + ttl);
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

    public async Task<IReadOnlyList<Delivery>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            Task signal;
            lock (_gate)
            {
                var batch = new List<Delivery>();
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

    public Task<IReadOnlyList<Delivery>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var reclaimed = new List<Delivery>();
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
        return Task.FromResult<IReadOnlyList<Delivery>>(reclaimed);
    }

    public Task KeepAliveAsync(IReadOnlyCollection<Delivery> inFlight, string consumer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var delivery in inFlight)
            {
                var queue = QueueOf(delivery.TaskName);
                if (queue.Pending.TryGetValue(delivery.EntryId, out var pending))
                    queue.Pending[delivery.EntryId] = pending with { Consumer = consumer, DeliveredAt = now };
            }
        }
        return Task.CompletedTask;
    }

    public Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken)
    {
        var moved = 0;
        lock (_gate)
        {
            while (moved < maxCount && _delayed.TryPeek(out var item, out var due) && due <= now)
            {
                _delayed.Dequeue();
                Enqueue(item.TaskName, item.Envelope);
                moved++;
            }
        }
        return Task.FromResult(moved);
    }

    public Task<StartOutcome> StartAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var stored = Find(delivery.Envelope!.SignatureId);
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
            return Task.FromResult(new StartOutcome(StartResult.Started, stored.Record));
        }
    }

    public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, TimeSpan doneTtl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Acknowledge(delivery);
            var stored = Find(delivery.Envelope!.SignatureId);
            if (stored is null || stored.Record.Status != SignatureStatus.Active)
                return Task.FromResult(new FinishOutcome(false, []));
            Transition(stored, SignatureStatus.Done);
            var payload = resultJson.ToArray();
            var missing = DispatchCallbacks(stored.Record.SuccessCallbackIds, id => new Envelope(id, EnvelopeKind.Result, payload));
            Release(stored.Record.ErrorCallbackIds, doneTtl);
            Release([stored.Record.Id], doneTtl);
            return Task.FromResult(new FinishOutcome(true, missing));
        }
    }

    public Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, TimeSpan doneTtl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Acknowledge(delivery);
            var stored = Find(delivery.Envelope!.SignatureId);
            if (stored is null || !stored.Record.Status.IsRunnable())
                return Task.FromResult(new FinishOutcome(false, []));
            Transition(stored, SignatureStatus.Failed);
            var payload = failedInput.ToArray();
            var missing = DispatchCallbacks(stored.Record.ErrorCallbackIds, id => new Envelope(id, EnvelopeKind.ErrorInput, payload, default, failure));
            Release(stored.Record.SuccessCallbackIds, doneTtl);
            Release([stored.Record.Id], doneTtl);
            return Task.FromResult(new FinishOutcome(true, missing));
        }
    }

    public Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Acknowledge(delivery);
            _delayed.Enqueue((delivery.TaskName, delivery.Envelope!), due);
        }
        return Task.CompletedTask;
    }

    public Task AcknowledgeAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        lock (_gate) Acknowledge(delivery);
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
        if (!_signatures.TryGetValue(id, out var stored)) return null;
        if (stored.ExpiresAt > time.GetUtcNow()) return stored;
        _signatures.Remove(id);
        return null;
    }

    private TaskQueue QueueOf(string taskName)
    {
        if (!_queues.TryGetValue(taskName, out var queue)) _queues[taskName] = queue = new TaskQueue();
        return queue;
    }

    private void Enqueue(string taskName, Envelope envelope)
    {
        var sequence = ++_nextEntryId;
        QueueOf(taskName).Ready.Enqueue(new QueueEntry($"{sequence}-0", sequence, envelope));
        var arrived = _arrived;
        _arrived = NewSignal();
        arrived.TrySetResult();
    }

    private void Acknowledge(Delivery delivery)
    {
        if (_queues.TryGetValue(delivery.TaskName, out var queue)) queue.Pending.Remove(delivery.EntryId);
    }

    private static void Transition(StoredSignature stored, SignatureStatus status) =>
        stored.Record = stored.Record with { LastStatus = stored.Record.Status, Status = status };

    private List<string> DispatchCallbacks(IReadOnlyList<string> ids, Func<string, Envelope> envelope)
    {
        var missing = new List<string>();
        foreach (var id in ids)
        {
            if (Find(id) is { } callback) Enqueue(callback.Record.TaskName, envelope(id));
            else missing.Add(id);
        }
        return missing;
    }

    private void Release(IReadOnlyList<string> ids, TimeSpan doneTtl)
    {
        foreach (var id in ids)
        {
            if (Find(id) is not { } stored) continue;
            if (doneTtl <= TimeSpan.Zero) _signatures.Remove(id);
            else stored.ExpiresAt = time.GetUtcNow() + doneTtl;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class StoredSignature(SignatureRecord record, DateTimeOffset expiresAt)
    {
        public SignatureRecord Record { get; set; } = record;

        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;
    }

    private sealed record QueueEntry(string Id, long Sequence, Envelope Envelope);

    private sealed record PendingEntry(QueueEntry Entry, string Consumer, DateTimeOffset DeliveredAt);

    private sealed class TaskQueue
    {
        public Queue<QueueEntry> Ready { get; } = new();

        public Dictionary<string, PendingEntry> Pending { get; } = new(StringComparer.Ordinal);
    }
}
