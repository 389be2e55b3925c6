namespace MageFlow.Execution;

/// <summary>Where a worker is in its life, as its health check reports it.</summary>
internal enum WorkerPhase
{
    /// <summary>The host has not started it.</summary>
    NotStarted,

    /// <summary>Publishing its task definitions and creating its queues; retried while the store cannot be reached.</summary>
    Preparing,

    /// <summary>Its loops are running.</summary>
    Running,

    /// <summary>It serves no task: nothing to run, nothing to watch.</summary>
    Idle,

    /// <summary>The host stopped it.</summary>
    Stopped,

    /// <summary>It failed and will not run again (a store MageFlow cannot use).</summary>
    Failed,
}

/// <summary>
/// What a worker's health check reads: its phase, and for each of its loops when it last came round. Written by
/// the worker's own loops only, read by the check from any thread.
/// </summary>
internal sealed class WorkerLiveness(TimeProvider time)
{
    private readonly List<LoopLiveness> _loops = [];
    private readonly Lock _gate = new();
    private (WorkerPhase Phase, Exception? Problem) _state;

    /// <summary>The phase, with why the worker is still preparing (the last attempt's error) or failed; null otherwise.</summary>
    public (WorkerPhase Phase, Exception? Problem) State
    {
        get { lock (_gate) return _state; }
    }

    /// <summary>The loops, all registered by the worker's constructor.</summary>
    public IReadOnlyList<LoopLiveness> Loops => _loops;

    /// <summary>Moves to <paramref name="phase"/>, unless stopped or failed already: those are final, whatever a loop still reports.</summary>
    public void EnterPhase(WorkerPhase phase, Exception? problem = null)
    {
        lock (_gate)
        {
            if (_state.Phase is WorkerPhase.Stopped or WorkerPhase.Failed) return;
            _state = (phase, problem);
        }
    }

    /// <summary>Registers a loop that waits <paramref name="interval"/> between rounds, each round blocking up to <paramref name="blocksFor"/>.</summary>
    public LoopLiveness AddLoop(string name, TimeSpan interval, TimeSpan blocksFor)
    {
        var loop = new LoopLiveness(name, interval + blocksFor, time);
        _loops.Add(loop);
        return loop;
    }
}

/// <summary>One worker loop: when it last came round, and how late it may be before it counts as stuck.</summary>
internal sealed class LoopLiveness
{
    // A slow store command (timeouts are seconds) or a long GC pause must not make a healthy loop look stuck.
    private static readonly TimeSpan MinimumSlack = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time;
    private long _cameRoundAt;
    private volatile bool _waitingForRuns;

    public LoopLiveness(string name, TimeSpan period, TimeProvider time)
    {
        Name = name;
        _time = time;
        // Three missed rounds, and never less than the slack above.
        StuckAfter = TimeSpan.FromTicks(Math.Max(period.Ticks * 3, period.Ticks + MinimumSlack.Ticks));
        _cameRoundAt = time.GetTimestamp();
    }

    public string Name { get; }

    /// <summary>How long since the last round before the loop counts as stuck.</summary>
    public TimeSpan StuckAfter { get; }

    /// <summary>
    /// True while the loop waits for runs to finish (every slot is taken): it is not stuck, the runs are, and those
    /// are kept alive (or taken over) on their own.
    /// </summary>
    public bool WaitingForRuns => _waitingForRuns;

    public TimeSpan SinceLastRound => _time.GetElapsedTime(Interlocked.Read(ref _cameRoundAt));

    public void CameRound() => Interlocked.Exchange(ref _cameRoundAt, _time.GetTimestamp());

    /// <summary>Marks the loop as waiting for a run to finish until the returned scope ends; its end counts as a round.</summary>
    public WaitForRunsScope WaitForRuns()
    {
        _waitingForRuns = true;
        return new WaitForRunsScope(this);
    }

    public readonly struct WaitForRunsScope(LoopLiveness loop) : IDisposable
    {
        public void Dispose()
        {
            loop.CameRound();
            loop._waitingForRuns = false;
        }
    }
}
