using System.Collections.Concurrent;
using MageFlow.Backends;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MageFlow.Execution;

/// <summary>
/// The engine shared by every backend: reads batches, runs them with bounded concurrency, and keeps every entry
/// it holds alive until it is finished. Each run is started, handed to <see cref="RunExecutor"/> (run the body,
/// decide the outcome) and then to <see cref="OutcomeApplier"/> (the atomic transition). On shutdown it stops
/// reading, lets runs finish within the host's shutdown timeout, and hands back the runs that did not finish so
/// another worker takes them over at once: nothing is half-applied.
/// </summary>
internal sealed partial class MageWorker : BackgroundService
{
    private readonly IMageBackend _backend;
    private readonly MageTaskRegistry _registry;
    private readonly MageFlowOptions _options;
    private readonly MageWorkerOptions _worker;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly RunExecutor _executor;
    private readonly OutcomeApplier _applier;
    private readonly SemaphoreSlim _slots;
    // Run loops waiting for an entry (RunSlot); at most one per slot, made as runs in flight first need them.
    private readonly Stack<RunSlot> _idleRunSlots = new();
    private int _runLoops;
    private readonly CancellationTokenSource _hardStop = new();

    // Every entry this worker holds — running, or read and waiting for a slot — with when it was last kept
    // alive. Keyed by queue and entry id, so a reclaim never hands this worker an entry it already holds (rule 18).
    private readonly HeldEntries _held = new();
    private readonly string[] _taskNames;

    // Stop signals of the last minute or so, by signature id, with when they came (StopRuns, StopRunsStoppedSince;
    // the keep-alive loop forgets older ones).
    private readonly ConcurrentDictionary<string, long> _recentStops = new(StringComparer.Ordinal);
    private volatile bool _prepared;

    // What a completing run offers the backend (CompleteAndTakeAsync): its slot, for the next run of this worker's queues.
    private readonly SlotOffer _slotOffer;

    // Loops waiting for a run slot: while one waits, completing runs free their slots instead of taking the next run
    // themselves, so the read loop (the outbox, what it read ahead) and the reclaim loop always get their turn.
    private int _slotWaiters;

    // The read loop's last read found fewer entries than it had slots for: nothing else waits, so what a completion
    // queues is best started by that completion. Under load reads fill their slots, and one read starts many runs.
    private volatile bool _queuesDrained;
    private CancellationToken _stopping;
    private IAsyncDisposable? _stopSignals;

    private readonly LoopLiveness _readLoop;
    private readonly LoopLiveness _reclaimLoop;
    private readonly LoopLiveness _promoteLoop;
    private readonly LoopLiveness _trimLoop;
    private readonly LoopLiveness _keepAliveLoop;
    private readonly LoopLiveness _maintenanceLoop;

    public MageWorker(
        IMageBackend backend,
        MageTaskRegistry registry,
        MageFlowOptions options,
        IOptions<MageWorkerOptions> workerOptions,
        IServiceScopeFactory scopes,
        ILogger<MageWorker> logger)
    {
        _backend = backend;
        _registry = registry;
        _options = options;
        _worker = workerOptions.Value;
        _logger = logger;
        _time = TimeProvider.System;
        _executor = new RunExecutor(registry, options, _worker, scopes, logger);
        _applier = new OutcomeApplier(backend, options, _worker, logger, _time);
        _slots = new SemaphoreSlim(_worker.Concurrency, _worker.Concurrency);
        var served = _registry.Tasks.Select(t => t.Name);
        if (_worker.Tasks is { } only)
        {
            var unknown = only.Where(name => !_registry.TryGet(name, out _)).ToArray();
            if (unknown.Length > 0)
                throw new InvalidOperationException($"MageWorkerOptions.Tasks names tasks this application does not register: {string.Join(", ", unknown)}.");
            served = only;
        }
        _taskNames = served.Distinct().OrderBy(n => n, StringComparer.Ordinal).ToArray();
        _slotOffer = new SlotOffer(_taskNames, _worker.ConsumerName, _options.ActiveTtl);
        Liveness = new WorkerLiveness(_time);
        _readLoop = Liveness.AddLoop("read", TimeSpan.Zero, _worker.ReadWait);
        _reclaimLoop = Liveness.AddLoop("reclaim", ReclaimInterval, TimeSpan.Zero);
        _promoteLoop = Liveness.AddLoop("promote retries", PromoteInterval, TimeSpan.Zero);
        _trimLoop = Liveness.AddLoop("trim", TrimInterval, TimeSpan.Zero);
        _keepAliveLoop = Liveness.AddLoop("keep-alive", KeepAliveInterval, TimeSpan.Zero);
        _maintenanceLoop = Liveness.AddLoop("maintenance", _worker.MaintenanceInterval, TimeSpan.Zero);
    }

    /// <summary>The tasks whose queues this worker reads.</summary>
    internal IReadOnlyList<string> TaskNames => _taskNames;

    /// <summary>Its phase and its loops' rounds, for the health check.</summary>
    internal WorkerLiveness Liveness { get; }

    /// <summary>Runs in flight right now (for tests and diagnostics).</summary>
    internal int InFlightCount => _held.Snapshot().Count(held => held.Running);

    /// <summary>Run loops made so far: never more than the slots (for tests and diagnostics).</summary>
    internal int RunLoopCount => Volatile.Read(ref _runLoops);

    /// <summary>Loops waiting for a run slot right now (for tests and diagnostics).</summary>
    internal int SlotWaiterCount => Volatile.Read(ref _slotWaiters);

    /// <summary>
    /// Publishes the task definitions and creates the queues before the host reports started, so producers in the
    /// same host can sign by name at once; when the backend cannot be reached yet, the host starts all the same
    /// and the worker keeps trying in the background.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Liveness.EnterPhase(WorkerPhase.Preparing);
        try
        {
            await PrepareOnceAsync(cancellationToken).ConfigureAwait(false);
            _prepared = true;
        }
        // A store MageFlow cannot use (NotSupportedException: a Redis too old, a Redis Cluster) fails the host's start.
        catch (NotSupportedException ex)
        {
            Liveness.EnterPhase(WorkerPhase.Failed, ex);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Liveness.EnterPhase(WorkerPhase.Preparing, ex);
            Log.WorkerStartDelayed(_logger, ex, _worker.ConsumerName, ex.Message, TimeSpan.Zero);
        }
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops reading, then waits for the runs in flight until the host's shutdown timeout; runs still going then
    /// are cancelled and handed back (not counted as attempts) for another worker to take over at once.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        Liveness.EnterPhase(WorkerPhase.Stopped);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RunsFinishedAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await _hardStop.CancelAsync().ConfigureAwait(false);
            foreach (var held in _held.Snapshot()) held.RequestStop();
            await RunsFinishedAsync().WaitAsync(HandBackTimeout, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (_stopSignals is { } stopSignals) await stopSignals.DisposeAsync().ConfigureAwait(false);
        if (!_prepared || _taskNames.Length == 0) return; // never reached the backend: nothing to leave
        try
        {
            // A worker that holds nothing leaves its queues' consumer groups (rule 23).
            await _backend.RemoveIdleConsumersAsync(_taskNames, _worker.ConsumerName, TimeSpan.MaxValue, CancellationToken.None)
                .WaitAsync(HandBackTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.WorkerLoopError(_logger, ex); // the maintenance of another worker removes it later
        }
    }

    /// <summary>How long cancelled runs get to hand themselves back at shutdown.</summary>
    private static readonly TimeSpan HandBackTimeout = TimeSpan.FromSeconds(5);

    private async Task RunsFinishedAsync()
    {
        while (!_held.IsEmpty) await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _hardStop.Dispose();
        _slots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_taskNames.Length == 0)
        {
            Liveness.EnterPhase(WorkerPhase.Idle);
            return;
        }
        _stopping = stoppingToken;
        await Task.Yield();
        try
        {
            if (!_prepared && !await PrepareAsync(stoppingToken).ConfigureAwait(false)) return;
        }
        catch (NotSupportedException ex)
        {
            Liveness.EnterPhase(WorkerPhase.Failed, ex);
            throw;
        }
        Log.WorkerStarted(_logger, _worker.ConsumerName, _taskNames.Length, _options.BackendName, _worker.Concurrency);
        var loops = new[]
        {
            RunLoopAsync(ReadOnceAsync, TimeSpan.Zero, _readLoop, stoppingToken),
            RunLoopAsync(ReclaimOnceAsync, ReclaimInterval, _reclaimLoop, stoppingToken),
            RunLoopAsync(PromoteOnceAsync, PromoteInterval, _promoteLoop, stoppingToken),
            RunLoopAsync(TrimOnceAsync, TrimInterval, _trimLoop, stoppingToken),
            RunLoopAsync(KeepAliveOnceAsync, KeepAliveInterval, _keepAliveLoop, stoppingToken),
            RunLoopAsync(MaintainOnceAsync, _worker.MaintenanceInterval, _maintenanceLoop, stoppingToken),
        };
        Liveness.EnterPhase(WorkerPhase.Running);
        await Task.WhenAll(loops).ConfigureAwait(false);
        // Stopped reading: wait for the runs in flight (the host bounds this wait with its shutdown timeout).
        while (!_held.IsEmpty) await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes the task definitions and creates the queues, trying again with backoff while the backend cannot
    /// be reached: a worker started before its Redis starts serving once Redis is up. False when stopped first.
    /// </summary>
    private async Task<bool> PrepareAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await PrepareOnceAsync(stoppingToken).ConfigureAwait(false);
                _prepared = true;
                return true;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return false;
            }
            // A store MageFlow cannot use (a Redis too old, a Redis Cluster, found once it answers) will not heal by
            // waiting: the worker fails, and with it the host (BackgroundServiceExceptionBehavior.StopHost), saying why.
            catch (Exception ex) when (ex is not NotSupportedException)
            {
                Liveness.EnterPhase(WorkerPhase.Preparing, ex);
                Log.WorkerStartDelayed(_logger, ex, _worker.ConsumerName, ex.Message, delay);
                try { await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return false; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task PrepareOnceAsync(CancellationToken cancellationToken)
    {
        await PublishDefinitionsAsync(cancellationToken).ConfigureAwait(false);
        await _backend.PrepareQueuesAsync(_taskNames, cancellationToken).ConfigureAwait(false);
        _stopSignals ??= await _backend.SubscribeAsync(SignalKind.StopRun, StopRuns, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Cancels the body of every run of <paramref name="signatureId"/> this worker holds (rule 25). Runs the worker
    /// starts itself are held before they start, so a stop that lands between the start transition and the body is
    /// not missed; for runs a read started (<see cref="IMageBackend.ReadAndStartAsync"/>) the stop is remembered a
    /// while, for <see cref="StopRunsStoppedSince"/>.
    /// </summary>
    private void StopRuns(string signatureId)
    {
        _recentStops[signatureId] = _time.GetTimestamp();
        foreach (var held in _held.Snapshot())
        {
            if (held.Entry is Delivery delivery && delivery.Envelope.SignatureId == signatureId) held.RequestStop();
        }
    }

    /// <summary>
    /// Stops the runs a read started whose signature was interrupted or canceled after the read was sent: that stop
    /// may have come before they were held. A stop from before the read was sent cannot be theirs: the read's start
    /// found the signature paused or finished and did not start it.
    /// </summary>
    private void StopRunsStoppedSince(IReadOnlyList<TakenEntry> batch, long readAt)
    {
        if (_recentStops.IsEmpty) return;
        foreach (var taken in batch)
        {
            if (taken is { IsStarted: true, Entry: Delivery delivery }
                && _recentStops.TryGetValue(delivery.Envelope.SignatureId, out var stoppedAt) && stoppedAt >= readAt
                && _held.Find(delivery.Key) is { } held)
                held.RequestStop();
        }
    }

    /// <summary>How long a stop signal is remembered: far longer than a read takes to return.</summary>
    private static readonly TimeSpan RecentStopsKept = TimeSpan.FromMinutes(1);

    private Task PublishDefinitionsAsync(CancellationToken cancellationToken) =>
        _backend.RegisterTaskDefinitionsAsync(
            _registry.Tasks.Select(t => new TaskDefinition(t.Name, t.MessageTypeId, t.Options.ReturnField, t.Options.Retries)).ToArray(),
            cancellationToken);

    private TimeSpan ReclaimInterval => Clamp(_worker.VisibilityTimeout / 2);

    // Often enough that neither the entry (visibility timeout) nor the signature (active TTL) lapses while held.
    private TimeSpan KeepAliveInterval => Clamp(TimeSpan.FromTicks(Math.Min(_worker.VisibilityTimeout.Ticks, _options.ActiveTtl.Ticks) / 3));

    private TimeSpan PromoteInterval => Clamp(TimeSpan.FromTicks(Math.Min(_worker.RetryDelay.Ticks / 2, TimeSpan.FromMilliseconds(250).Ticks)));

    // Finished entries wait this long at most in a Redis stream: a second of them is about a megabyte at full speed.
    private static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a consumer must hold nothing and be silent before it counts as a stopped worker's.</summary>
    private TimeSpan StoppedConsumerIdle => TimeSpan.FromTicks(Math.Max(_worker.VisibilityTimeout.Ticks * 2, _worker.ReadWait.Ticks * 10));

    private static TimeSpan Clamp(TimeSpan interval) => interval < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : interval;

    private async Task RunLoopAsync(Func<CancellationToken, Task> once, TimeSpan interval, LoopLiveness liveness, CancellationToken stoppingToken)
    {
        // Its first round is due from now, not from when the worker was created (preparing may have taken long).
        liveness.CameRound();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (interval > TimeSpan.Zero) await Task.Delay(interval, _time, stoppingToken).ConfigureAwait(false);
                await once(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.WorkerLoopError(_logger, ex);
                try { await Task.Delay(TimeSpan.FromMilliseconds(200), _time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
            // A failed round came round all the same: the loop is not stuck, and the store's own check says why it fails.
            liveness.CameRound();
        }
    }

    /// <summary>Takes a run slot; while every slot is taken the loop waits for runs, which is not being stuck.</summary>
    private async ValueTask TakeSlotAsync(LoopLiveness liveness, CancellationToken cancellationToken)
    {
        if (_slots.Wait(0)) return;
        using (liveness.WaitForRuns()) await WaitForSlotAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitForSlotAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _slotWaiters);
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _slotWaiters);
        }
    }

    // A completing run offers its slot for the next run while the queues are drained, unless the worker stops or a loop
    // waits for a slot.
    private SlotOffer? OfferedSlot() =>
        _queuesDrained && !_stopping.IsCancellationRequested && Volatile.Read(ref _slotWaiters) == 0 ? _slotOffer : null;

    private async Task ReadOnceAsync(CancellationToken stoppingToken)
    {
        await TakeSlotAsync(_readLoop, stoppingToken).ConfigureAwait(false);
        var free = Math.Min(_slots.CurrentCount + 1, _worker.BatchSize);
        var readAt = _time.GetTimestamp();
        IReadOnlyList<TakenEntry> batch;
        try
        {
            batch = await _backend.ReadAndStartAsync(_taskNames, _worker.ConsumerName, free, _worker.ReadWait, _options.ActiveTtl, stoppingToken).ConfigureAwait(false);
        }
        catch
        {
            _slots.Release();
            throw;
        }
        _queuesDrained = batch.Count < free;
        if (batch.Count == 0)
        {
            _slots.Release();
            return;
        }
        Hold(batch.Select(taken => taken.Entry));
        StopRunsStoppedSince(batch, readAt);
        // One slot is held already; only this loop and the reclaim loop take slots, so these waits are short.
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0 && !_slots.Wait(0)) await WaitForSlotAsync(CancellationToken.None).ConfigureAwait(false);
            Launch(batch[i]);
        }
    }

    private async Task ReclaimOnceAsync(CancellationToken stoppingToken)
    {
        var reclaimed = await _backend.ReclaimAsync(_taskNames, _worker.ConsumerName, _worker.VisibilityTimeout, _worker.BatchSize, stoppingToken).ConfigureAwait(false);
        // An entry this worker already holds came back only because its keep-alive was late: it is not a take-over.
        var taken = reclaimed.Where(entry => !_held.Contains(entry.Key)).ToArray();
        if (taken.Length == 0) return;
        Log.Reclaimed(_logger, taken.Length);
        Hold(taken);
        foreach (var entry in taken)
        {
            await TakeSlotAsync(_reclaimLoop, CancellationToken.None).ConfigureAwait(false);
            Launch(new TakenEntry(entry));
        }
    }

    private async Task PromoteOnceAsync(CancellationToken stoppingToken) =>
        await _backend.PromoteDueRetriesAsync(_time.GetUtcNow(), _worker.BatchSize * 4, stoppingToken).ConfigureAwait(false);

    private async Task TrimOnceAsync(CancellationToken stoppingToken) =>
        await _backend.TrimQueuesAsync(_taskNames, stoppingToken).ConfigureAwait(false);

    private async Task KeepAliveOnceAsync(CancellationToken stoppingToken)
    {
        var now = _time.GetTimestamp();
        var staleBefore = now - (long)(KeepAliveInterval.TotalSeconds * _time.TimestampFrequency);
        var stale = _held.Snapshot().Where(held => held.KeptAliveAt <= staleBefore).ToArray();
        foreach (var held in stale) held.KeptAliveAt = now;
        // The backend also keeps alive what it read ahead for this consumer, so it is called even with nothing stale.
        var stopped = await _backend.KeepAliveAsync(stale.Select(held => held.Entry).ToArray(), _worker.ConsumerName, _options.ActiveTtl, stoppingToken).ConfigureAwait(false);
        // A stop signal lost on the way (a dropped connection) is caught here, at the latest one keep-alive later.
        foreach (var id in stopped) StopRuns(id);
        foreach (var (id, at) in _recentStops)
        {
            if (_time.GetElapsedTime(at, now) > RecentStopsKept) _recentStops.TryRemove(id, out _);
        }
    }

    /// <summary>Re-publishes the task definitions (Redis may have lost them) and removes consumers of stopped workers (rule 23).</summary>
    private async Task MaintainOnceAsync(CancellationToken stoppingToken)
    {
        await PublishDefinitionsAsync(stoppingToken).ConfigureAwait(false);
        var removed = await _backend.RemoveIdleConsumersAsync(_taskNames, null, StoppedConsumerIdle, stoppingToken).ConfigureAwait(false);
        if (removed > 0) Log.RemovedIdleConsumers(_logger, removed);
    }

    private void Hold(IEnumerable<QueueEntry> entries)
    {
        var now = _time.GetTimestamp();
        foreach (var entry in entries) Hold(entry, now);
    }

    private Held Hold(QueueEntry entry, long now)
    {
        var held = new Held(entry, now);
        _held.Set(held);
        // Checked once it is held: a shutdown that began before is seen here, one that begins after stops it with the rest.
        if (_hardStop.IsCancellationRequested) held.RequestStop();
        return held;
    }
}
