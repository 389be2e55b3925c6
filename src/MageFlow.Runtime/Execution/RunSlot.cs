using System.Threading.Tasks.Sources;
using MageFlow.Backends;

namespace MageFlow.Execution;

/// <summary>
/// One run slot of a worker: a long-lived loop runs the entries handed to it, one at a time, and waits here between
/// them. A loop's state machine is made once, not once per run (a run per call was ~0.55 KB per pair of runs, the
/// largest item after byte arrays: docs/redis-v2-design.md §16), and a hand-off allocates nothing. The loop continues
/// on the thread pool, not on the thread that hands it an entry.
/// </summary>
internal sealed class RunSlot : IValueTaskSource<TakenEntry>
{
    private ManualResetValueTaskSourceCore<TakenEntry> _next = new() { RunContinuationsAsynchronously = true };

    /// <summary>The next entry; <c>default</c> (no entry) when the loop is to end. Awaited once per hand-off.</summary>
    public ValueTask<TakenEntry> NextAsync() => new(this, _next.Version);

    /// <summary>Hands the loop its next entry (or <c>default</c>: end). Once per <see cref="NextAsync"/>.</summary>
    public void Hand(TakenEntry taken) => _next.SetResult(taken);

    TakenEntry IValueTaskSource<TakenEntry>.GetResult(short token)
    {
        var taken = _next.GetResult(token);
        _next.Reset(); // ready for the next hand-off before the loop can be handed anything again
        return taken;
    }

    ValueTaskSourceStatus IValueTaskSource<TakenEntry>.GetStatus(short token) => _next.GetStatus(token);

    void IValueTaskSource<TakenEntry>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _next.OnCompleted(continuation, state, token, flags);
}
