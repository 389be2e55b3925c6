using System.Diagnostics;

namespace MageFlow.Benchmarks.Workload;

/// <summary>
/// What the benchmark tasks report, keyed by task index: when each task's handler ended, when each callback's
/// handler started, when the last callback finished, and how many results a swarm's summary callback received.
/// Task handlers reach it through <see cref="Current"/> because generated [MageTask] methods are static.
/// </summary>
internal sealed class RunProbe
{
    private static RunProbe? _current;
    private readonly long[] _workEnded;
    private readonly long[] _callbackStarted;
    private readonly TaskCompletionSource _allCallbacksDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _swarmResults = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _callbacksDone;
    private int _duplicateCallbacks;

    public RunProbe(int tasks)
    {
        _workEnded = new long[tasks];
        _callbackStarted = new long[tasks];
    }

    public static RunProbe Current => Volatile.Read(ref _current) ?? throw new InvalidOperationException("No benchmark run is active.");

    public static void Activate(RunProbe probe) => Volatile.Write(ref _current, probe);

    public int Tasks => _workEnded.Length;

    public int CallbacksDone => Volatile.Read(ref _callbacksDone);

    /// <summary>Callbacks that ran a second time for the same index (at-least-once redelivery); expected 0.</summary>
    public int DuplicateCallbacks => Volatile.Read(ref _duplicateCallbacks);

    public Task AllCallbacksDone => _allCallbacksDone.Task;

    /// <summary>How many item results the swarm's summary callback received, once it ran.</summary>
    public Task<int> SwarmResults => _swarmResults.Task;

    public void WorkEnded(int index) => _workEnded[index] = Stopwatch.GetTimestamp();

    public void CallbackStarted(int index) => Interlocked.CompareExchange(ref _callbackStarted[index], Stopwatch.GetTimestamp(), 0);

    public void CallbackFinished(int index)
    {
        var done = Interlocked.Increment(ref _callbacksDone);
        if (done > Tasks)
        {
            Interlocked.Increment(ref _duplicateCallbacks);
            return;
        }
        if (done == Tasks) _allCallbacksDone.TrySetResult();
    }

    public void SwarmSummarized(IReadOnlyList<WorkResult>? results) => _swarmResults.TrySetResult(results?.Count ?? 0);

    /// <summary>Callback start − task end in microseconds for every index that has both.</summary>
    public IEnumerable<long> FinishToCallbackMicroseconds(int fromIndex = 0)
    {
        for (var i = fromIndex; i < Tasks; i++)
        {
            var ended = _workEnded[i];
            var started = Volatile.Read(ref _callbackStarted[i]);
            if (ended == 0 || started == 0) continue;
            yield return (started - ended) * 1_000_000 / Stopwatch.Frequency;
        }
    }
}
