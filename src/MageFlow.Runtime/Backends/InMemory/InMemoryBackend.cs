using MageFlow.Signatures;

namespace MageFlow.Backends.InMemory;

/// <summary>
/// The embedded backend: the same semantics as Redis, inside one process. One lock makes every transition
/// atomic; queues keep Redis Streams' consumer-group behaviour (delivered entries stay pending until
/// acknowledged and can be reclaimed after the visibility timeout), so the contract suite runs unchanged.
/// Expired signatures are swept as time passes (like Redis' active expiry), so memory stays bounded by what
/// is alive, not by what ever ran.
/// </summary>
internal sealed partial class InMemoryBackend(TimeProvider time) : IMageBackend
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredSignature> _signatures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskQueue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskDefinition> _definitions = new(StringComparer.Ordinal);
    private readonly PriorityQueue<DelayedRun, DateTimeOffset> _delayed = new();

    // One entry per stored signature, at the expiry it had when scheduled; the sweep re-schedules when it moved.
    private readonly PriorityQueue<string, DateTimeOffset> _expiries = new();
    private readonly List<Listener> _listeners = [];
    private TaskCompletionSource _arrived = NewSignal();
    private long _nextEntryId;

    public InMemoryBackend() : this(TimeProvider.System) { }

    public string StoreId { get; } = $"the in-memory store {Guid.NewGuid():N}";

    public string NewSignatureId(IReadOnlyList<string> related) => SignatureRecord.NewId();

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
        lock (_gate) return Task.FromResult(Find(id)?.Snapshot());
    }

    public IAsyncEnumerable<SignatureRecord> ListSignaturesAsync(SignatureQuery query, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Sweep();
            return _signatures.Values.Select(stored => stored.Snapshot())
                .Where(record => (query.Status is null || record.Status == query.Status) && (query.TaskName is null || record.TaskName == query.TaskName))
                .Take(query.Limit)
                .ToArray()
                .ToAsyncEnumerable();
        }
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

    public Task<LifecycleChange> ChangeLifecycleAsync(string id, LifecycleAction action, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var signals = new List<(SignalKind, string)>();
        LifecycleChange change;
        lock (_gate)
        {
            if (Find(id) is not { } stored) return Task.FromResult(new LifecycleChange(false, default, default));
            var before = stored.Record.Status;
            if (action == LifecycleAction.Retry)
            {
                if (stored.Record.CanRetry) Retry(stored, stored.Record.FailedInput!, lifetimes);
            }
            else if (!before.IsFinished())
            {
                ChangeLifecycle(stored, action, lifetimes, signals);
                // A step or item canceled on its own is a failed child: its chain fails, its swarm counts it (rules 27, 29).
                if (action == LifecycleAction.Cancel && stored.Record.ParentId is { } parentId && Find(parentId) is { } parent)
                {
                    var failure = new TaskFailure(id, stored.Record.TaskName, $"Signature {id} was canceled.");
                    ChildFinished(parent, stored, new SavedOutcome("{}"u8.ToArray(), failure), lifetimes, signals);
                }
            }
            change = new LifecycleChange(true, before, stored.Record.Status);
        }
        Raise(signals);
        return Task.FromResult(change);
    }

    /// <summary>A Failed task runs again: Pending, attempts from 0, one run queued with the failed run's input.</summary>
    private void Retry(StoredSignature stored, byte[] failedInput, SignatureLifetimes lifetimes)
    {
        stored.Record = stored.Record with
        {
            Status = SignatureStatus.Pending,
            LastStatus = SignatureStatus.Failed,
            Attempts = 0,
            Failure = null,
            FailedInput = null,
            FinishedAt = null,
        };
        KeepWithCallbacks(stored, time.GetUtcNow() + lifetimes.Active);
        Enqueue(stored.Record.TaskName, new Envelope(stored.Record.Id, EnvelopeKind.Message, failedInput));
    }

    /// <summary>One lifecycle operation on a signature and, for a chain or swarm, on every unfinished child (contract §5).</summary>
    private void ChangeLifecycle(StoredSignature stored, LifecycleAction action, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        var before = stored.Record.Status;
        var id = stored.Record.Id;
        switch (action)
        {
            case LifecycleAction.Suspend when before.IsRunnable():
                Pause(stored, SignatureStatus.Suspended);
                break;
            case LifecycleAction.Interrupt when before != SignatureStatus.Interrupted:
                Pause(stored, SignatureStatus.Interrupted);
                signals.Add((SignalKind.StopRun, id));
                break;
            case LifecycleAction.Resume when before.IsPaused():
                Resume(stored, lifetimes, signals);
                break;
            case LifecycleAction.Cancel:
                stored.Parked.Clear();
                stored.Saved = null;
                Transition(stored, SignatureStatus.Canceled);
                ReleaseTree([.. stored.Record.SuccessCallbackIds, .. stored.Record.ErrorCallbackIds], lifetimes.Done);
                Finished(stored, lifetimes.Done, signals);
                signals.Add((SignalKind.StopRun, id));
                break;
        }
        var children = stored.Record.Kind == SignatureKind.Chain ? stored.Record.ChildIds : stored.Swarm?.Items ?? [];
        foreach (var childId in children)
        {
            if (Find(childId) is { } child && !child.Record.Status.IsFinished()) ChangeLifecycle(child, action, lifetimes, signals);
        }
        if (stored.Swarm is not null && action == LifecycleAction.Resume && stored.Record.Status.IsRunnable())
        {
            Fill(stored, lifetimes, signals);
            CompleteSwarmIfDue(stored, lifetimes, signals);
        }
    }

    public Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken)
    {
        var listener = new Listener(this, kind, onSignal);
        lock (_gate) _listeners.Add(listener);
        return Task.FromResult<IAsyncDisposable>(listener);
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

    /// <summary>The store is this process's memory: it always answers.</summary>
    public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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
                        batch.Add(new Delivery(name, entry.Id, entry.Envelope, entry.QueuedAt));
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
                    reclaimed.Add(new Delivery(name, pending.Entry.Id, pending.Entry.Envelope, pending.Entry.QueuedAt));
                }
            }
        }
        return Task.FromResult<IReadOnlyList<QueueEntry>>(reclaimed);
    }

    public Task<IReadOnlyList<string>> KeepAliveAsync(IReadOnlyCollection<QueueEntry> held, string consumer, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stopped = new List<string>();
        lock (_gate)
        {
            foreach (var entry in held)
            {
                var queue = QueueOf(entry.TaskName);
                if (!queue.Pending.TryGetValue(entry.EntryId, out var pending) || pending.Consumer != consumer) continue;
                queue.Pending[entry.EntryId] = pending with { DeliveredAt = now };
                if (Find(pending.Entry.Envelope.SignatureId) is not { } stored) continue;
                KeepWithCallbacks(stored, now + activeTtl);
                if (stored.Record.Status is SignatureStatus.Interrupted or SignatureStatus.Canceled) stopped.Add(stored.Record.Id);
            }
        }
        return Task.FromResult<IReadOnlyList<string>>(stopped);
    }

    // Consumers exist here only as names on pending entries: nothing to remove.
    public Task<int> RemoveIdleConsumersAsync(IReadOnlyCollection<string> taskNames, string? stoppingConsumer, TimeSpan idleFor, CancellationToken cancellationToken) =>
        Task.FromResult(0);

    // One store, no partitions: nothing is ever forwarded.
    public Task<DateTimeOffset?> GetOldestUnforwardedAsync(CancellationToken cancellationToken) => Task.FromResult<DateTimeOffset?>(null);

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOldestUnacknowledgedAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        var oldest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var name in taskNames)
            {
                if (!_queues.TryGetValue(name, out var queue)) continue;
                // Ready is in queuing order, so its head is its oldest; pending entries are in no order.
                var queuedTimes = queue.Pending.Values.Select(pending => pending.Entry.QueuedAt);
                if (queue.Ready.TryPeek(out var head)) queuedTimes = queuedTimes.Append(head.QueuedAt);
                if (queuedTimes.Any()) oldest[name] = queuedTimes.Min();
            }
        }
        return Task.FromResult<IReadOnlyDictionary<string, DateTimeOffset>>(oldest);
    }

    /// <summary>Acknowledged entries are removed at once here: nothing to trim.</summary>
    public Task<long> TrimQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) => Task.FromResult(0L);

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
                return Task.FromResult(new StartOutcome(StartResult.Missing));
            }
            if (stored.Record.Status.IsPaused())
            {
                if (Acknowledge(delivery)) Park(stored, delivery.Envelope);
                return Task.FromResult(new StartOutcome(StartResult.Parked, FoundStatus: stored.Record.Status));
            }
            if (!stored.Record.Status.IsRunnable())
            {
                Acknowledge(delivery);
                return Task.FromResult(new StartOutcome(StartResult.NotRunnable, FoundStatus: stored.Record.Status));
            }
            if (stored.Record.Status != SignatureStatus.Active) Transition(stored, SignatureStatus.Active);
            stored.Record = stored.Record with { Attempts = stored.Record.Attempts + 1, StartedAt = time.GetUtcNow() };
            stored.Stalls = stored.RunningEntryId == delivery.EntryId ? stored.Stalls + 1 : 0;
            stored.RunningEntryId = delivery.EntryId;
            KeepWithCallbacks(stored, time.GetUtcNow() + activeTtl);
            return Task.FromResult<StartOutcome>(StartedRun.Of(stored.Record, stored.Stalls));
        }
    }

    public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Finish(delivery, new SavedOutcome(resultJson.ToArray(), null), lifetimes);

    public Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        Finish(delivery, new SavedOutcome(failedInput.ToArray(), failure), lifetimes);

    private Task<FinishOutcome> Finish(Delivery delivery, SavedOutcome outcome, SignatureLifetimes lifetimes)
    {
        var signals = new List<(SignalKind, string)>();
        FinishOutcome finished;
        lock (_gate)
        {
            Acknowledge(delivery);
            var stored = Find(delivery.Envelope.SignatureId);
            var status = stored?.Record.Status;
            if (stored is not null && status!.Value.IsPaused())
            {
                // Contract §5: a body that finishes while paused keeps its outcome for resume; the first one kept wins.
                stored.Saved ??= outcome;
                stored.RunningEntryId = null;
                Persist(stored);
                return Task.FromResult(FinishOutcome.SavedWhilePaused);
            }
            // Done needs Active; a failure may also end a run that never started (Pending), e.g. a corrupt one.
            var applies = outcome.Failure is null ? status == SignatureStatus.Active : status?.IsRunnable() == true;
            if (!applies) return Task.FromResult(FinishOutcome.NotApplied);
            finished = new FinishOutcome(true, Apply(stored!, outcome, lifetimes, signals));
        }
        Raise(signals);
        return Task.FromResult(finished);
    }

    /// <summary>
    /// Makes a signature Done or Failed and dispatches the callbacks of that outcome once (rules 6-8); then its chain
    /// or swarm, if any, takes the outcome (rules 27, 29) in the same step.
    /// </summary>
    private List<string> Apply(StoredSignature stored, SavedOutcome outcome, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        List<string> missing;
        var payload = outcome.Payload;
        if (outcome.Failure is { } failure)
        {
            Transition(stored, SignatureStatus.Failed);
            stored.Record = stored.Record with { Failure = failure, FailedInput = payload };
            missing = DispatchCallbacks(stored.Record.ErrorCallbackIds, callback => new Envelope(callback.Record.Id, EnvelopeKind.ErrorInput, payload, default, failure), lifetimes, signals);
            ReleaseTree(stored.Record.SuccessCallbackIds, lifetimes.Done);
        }
        else
        {
            Transition(stored, SignatureStatus.Done);
            if (stored.Awaited) stored.Record = stored.Record with { Result = payload };
            missing = DispatchCallbacks(stored.Record.SuccessCallbackIds, callback => new Envelope(callback.Record.Id, EnvelopeKind.Result,
                callback.Record.ReceivesSwarmResults && outcome.SwarmOutcomes is { } outcomes ? outcomes : payload), lifetimes, signals);
            ReleaseTree(stored.Record.ErrorCallbackIds, lifetimes.Done);
        }
        stored.Parked.Clear();
        stored.Saved = null;
        Finished(stored, lifetimes.Done, signals);
        if (stored.Record.ParentId is { } parentId && Find(parentId) is { } parent) ChildFinished(parent, stored, outcome, lifetimes, signals);
        return missing;
    }

    /// <summary>Done, Failed or Canceled: stamped, kept for the done lifetime (longer when awaited), and the waiters told.</summary>
    private void Finished(StoredSignature stored, TimeSpan doneTtl, List<(SignalKind, string)> signals)
    {
        stored.RunningEntryId = null;
        stored.Record = stored.Record with { FinishedAt = time.GetUtcNow() };
        if (stored.Awaited)
        {
            signals.Add((SignalKind.Finished, stored.Record.Id));
            if (doneTtl < SignatureLifetimes.AwaitedMinimum) doneTtl = SignatureLifetimes.AwaitedMinimum;
        }
        Release(stored, doneTtl);
    }

    public Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Only a run still pending is delayed: one copy, never one for an entry another worker finished.
            if (!Acknowledge(delivery)) return Task.CompletedTask;
            var stored = Find(delivery.Envelope.SignatureId);
            var status = stored?.Record.Status;
            if (status?.IsPaused() == true)
            {
                Park(stored!, delivery.Envelope); // a suspended task is not retried (rule 26): resume runs it again
                return Task.CompletedTask;
            }
            if (status?.IsFinished() == true) return Task.CompletedTask;
            _delayed.Enqueue(new DelayedRun(delivery.TaskName, delivery.Envelope), due);
            if (stored is not null) KeepWithCallbacks(stored, due + activeTtl);
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

    public Task ParkAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!Acknowledge(delivery) || Find(delivery.Envelope.SignatureId) is not { } stored) return Task.CompletedTask;
            if (stored.RunningEntryId == delivery.EntryId) stored.RunningEntryId = null;
            // An interrupted run is not an attempt (rule 25).
            stored.Record = stored.Record with { Attempts = Math.Max(0, stored.Record.Attempts - 1) };
            if (stored.Record.Status.IsPaused()) Park(stored, delivery.Envelope);
            else if (stored.Record.Status.IsRunnable()) Enqueue(delivery.TaskName, delivery.Envelope); // resumed before the body stopped
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

    /// <remarks>
    /// Runs queued by a transition (callbacks, chain steps, swarm items) are queued under the lock, on the caller's
    /// own flow, so the current span is the run whose outcome queued them: it becomes their parent.
    /// </remarks>
    private void Enqueue(string taskName, Envelope envelope)
    {
        var sequence = ++_nextEntryId;
        if (envelope.TraceParent is null && MageFlowTelemetry.CurrentTraceParent() is { } parent) envelope = envelope with { TraceParent = parent };
        QueueOf(taskName).Ready.Enqueue(new QueueEntryData($"{sequence}-0", sequence, envelope, time.GetUtcNow()));
        var arrived = _arrived;
        _arrived = NewSignal();
        arrived.TrySetResult();
    }

    /// <summary>Removes the entry from its queue's pending list; false when it was no longer pending.</summary>
    private bool Acknowledge(Delivery delivery) =>
        _queues.TryGetValue(delivery.TaskName, out var queue) && queue.Pending.Remove(delivery.EntryId);

    private static void Transition(StoredSignature stored, SignatureStatus status) =>
        stored.Record = stored.Record with { LastStatus = stored.Record.Status, Status = status };

    /// <summary>Suspended or Interrupted; the last status stays the one resume returns to when it was paused already.</summary>
    private static void Pause(StoredSignature stored, SignatureStatus status) =>
        stored.Record = stored.Record with
        {
            LastStatus = stored.Record.Status.IsPaused() ? stored.Record.LastStatus : stored.Record.Status,
            Status = status,
        };

    /// <summary>Saves a run on a paused signature for resume (rule 24); parked signatures do not expire (rule 19).</summary>
    private void Park(StoredSignature stored, Envelope envelope)
    {
        stored.Parked.Add(envelope);
        stored.Record = stored.Record with { LastStatus = SignatureStatus.Active };
        Persist(stored);
    }

    /// <summary>Resume (contract §5): a saved outcome is applied, else parked runs are queued once, else the last status returns.</summary>
    private void Resume(StoredSignature stored, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        // Expiring again from now, like any signature that just had activity.
        var until = time.GetUtcNow() + lifetimes.Active;
        foreach (var kept in stored.Record.SuccessCallbackIds.Concat(stored.Record.ErrorCallbackIds).Select(Find).Append(stored))
        {
            if (kept is not null) SetExpiry(kept, until);
        }
        if (stored.Saved is { } saved)
        {
            Apply(stored, saved, lifetimes, signals);
            return;
        }
        if (stored.Parked.Count > 0)
        {
            Transition(stored, SignatureStatus.Pending);
            foreach (var envelope in stored.Parked) Enqueue(stored.Record.TaskName, envelope);
            stored.Parked.Clear();
        }
        else
        {
            stored.Record = stored.Record with { Status = stored.Record.LastStatus, LastStatus = stored.Record.Status };
        }
    }

    /// <summary>No expiry for a signature and its callbacks while something waits on it for resume (rule 19).</summary>
    private void Persist(StoredSignature stored)
    {
        stored.ExpiresAt = DateTimeOffset.MaxValue;
        foreach (var id in stored.Record.SuccessCallbackIds.Concat(stored.Record.ErrorCallbackIds))
        {
            if (_signatures.TryGetValue(id, out var callback)) callback.ExpiresAt = DateTimeOffset.MaxValue;
        }
    }

    /// <summary>Calls the listeners outside the lock, on the thread pool: a listener never runs inside a transition.</summary>
    private void Raise(List<(SignalKind Kind, string Id)> signals)
    {
        if (signals.Count == 0) return;
        Listener[] listeners;
        lock (_gate) listeners = _listeners.ToArray();
        foreach (var (kind, id) in signals)
        {
            foreach (var listener in listeners)
            {
                if (listener.Kind == kind) ThreadPool.QueueUserWorkItem(static state => state.Listener.OnSignal(state.Id), (Listener: listener, Id: id), preferLocal: false);
            }
        }
    }

    private List<string> DispatchCallbacks(IReadOnlyList<string> ids, Func<StoredSignature, Envelope> envelope, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        var missing = new List<string>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (Find(id) is { } callback) Dispatch(callback, envelope(callback), lifetimes, signals);
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

        /// <summary>Runs waiting for resume (rule 24).</summary>
        public List<Envelope> Parked { get; } = [];

        /// <summary>An outcome reached while paused, applied by resume.</summary>
        public SavedOutcome? Saved { get; set; }

        /// <summary>Someone waits on it: its finish keeps the result and signals <see cref="SignalKind.Finished"/>.</summary>
        public bool Awaited { get; set; }

        /// <summary>A swarm's queues and outcomes.</summary>
        public SwarmData? Swarm { get; set; }

        public SignatureRecord Snapshot() => Record with
        {
            Swarm = Swarm?.State(Record.Swarm!.Options),
            ParkedRuns = Parked.Count,
            HasSavedOutcome = Saved is not null,
            Result = Record.Result ?? (Saved is { Failure: null } done ? done.Payload : null),
            Failure = Record.Failure ?? Saved?.Failure,
        };

        public DateTimeOffset ExpiresAt { get; set; } = DateTimeOffset.MaxValue;

        /// <summary>The entry last started and not yet finished or handed back: starting it again is a take-over.</summary>
        public string? RunningEntryId { get; set; }

        public int Stalls { get; set; }
    }

    private sealed record DelayedRun(string TaskName, Envelope Envelope);

    /// <summary>A result (<paramref name="Failure"/> null) or a failure with the failed input; a swarm's result also has every item's outcome.</summary>
    private sealed record SavedOutcome(byte[] Payload, TaskFailure? Failure, byte[]? SwarmOutcomes = null);

    private sealed class Listener(InMemoryBackend backend, SignalKind kind, Action<string> onSignal) : IAsyncDisposable
    {
        public SignalKind Kind { get; } = kind;

        public void OnSignal(string id) => onSignal(id);

        public ValueTask DisposeAsync()
        {
            lock (backend._gate) backend._listeners.Remove(this);
            return ValueTask.CompletedTask;
        }
    }

    private sealed record QueueEntryData(string Id, long Sequence, Envelope Envelope, DateTimeOffset QueuedAt);

    private sealed record PendingEntry(QueueEntryData Entry, string Consumer, DateTimeOffset DeliveredAt);

    private sealed class TaskQueue
    {
        public Queue<QueueEntryData> Ready { get; } = new();

        public Dictionary<string, PendingEntry> Pending { get; } = new(StringComparer.Ordinal);
    }
}
