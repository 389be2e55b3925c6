using System.Buffers;
using System.Threading.Tasks.Sources;

namespace MageFlow.Backends.Redis;

/// <summary>The outcome of one item of a batched script call: its result, or the error of that item alone.</summary>
internal readonly record struct ItemResult<TResult>(TResult? Value, Exception? Error)
{
    public static ItemResult<TResult> Of(TResult value) => new(value, null);

    public static ItemResult<TResult> Failed(Exception error) => new(default, error);
}

/// <summary>
/// Group commit for one transition script: calls that arrive while a batch is on the wire are sent together
/// in the next one, so N concurrent runs cost one round trip instead of N. An idle call is sent at once
/// (no timer, no added latency); at most <see cref="BatchesInFlight"/> batches of this transition are in flight, so a
/// call that arrives while one is on the wire waits for no more than the calls sent before it (with one in flight it
/// waited for that batch's round trip before its own: at a tenth of capacity p50 0.55 → 0.47 ms finish → callback,
/// docs/redis-v2-design.md §15). A failing item fails
/// only its own caller (rule 21): the scripts run each item guarded and report its error in its reply.
/// A batch also stops at <paramref name="maxBytes"/> of payload (by <paramref name="sizeOf"/>), so large results
/// never add up to one request that Redis' query buffer refuses. A batch's items are lent to <paramref name="runBatch"/>
/// until its task ends: it must not keep them. A caller waits on a reusable source, not a task of its own (a task and
/// its completion source were ~0.2 KB per pair of runs, docs/redis-v2-design.md §17): the value task
/// <see cref="RunAsync"/> returns must be awaited once (or turned into a task once), like any pooled one.
/// </summary>
internal sealed class TransitionBatcher<TItem, TResult>(
    Func<IReadOnlyList<TItem>, Task<ItemResult<TResult>[]>> runBatch,
    int maxBatch,
    Func<TItem, long>? sizeOf = null,
    long maxBytes = long.MaxValue)
{
    /// <summary>How many batches of one transition may be on the wire at once.</summary>
    public const int BatchesInFlight = 2;

    // Enough for every run slot of a busy worker; a caller beyond it gets a new source, left to the GC once used.
    private const int PooledWaitsKept = 1024;

    private readonly Lock _gate = new();
    private readonly List<(TItem Item, Wait Done)> _queued = [];
    private readonly Stack<Wait> _idleWaits = new();

    // Batches on the wire (each sent by its own flush loop). Under _gate.
    private int _flushing;

    public ValueTask<TResult> RunAsync(TItem item)
    {
        bool startFlushing;
        Wait done;
        lock (_gate)
        {
            if (!_idleWaits.TryPop(out done!)) done = new Wait(this);
            _queued.Add((item, done));
            startFlushing = _flushing < BatchesInFlight;
            if (startFlushing) _flushing++;
        }
        if (startFlushing) _ = FlushAsync();
        return done.Task;
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            // Rented: a batch's arrays live only until its replies are handed out (~0.1 KB per pair of runs, §16).
            TItem[] items;
            Wait[] dones;
            int take;
            lock (_gate)
            {
                if (_queued.Count == 0)
                {
                    _flushing--;
                    return;
                }
                take = 1;
                var bytes = sizeOf?.Invoke(_queued[0].Item) ?? 0;
                while (take < Math.Min(_queued.Count, maxBatch))
                {
                    bytes += sizeOf?.Invoke(_queued[take].Item) ?? 0;
                    if (bytes > maxBytes) break;
                    take++;
                }
                items = ArrayPool<TItem>.Shared.Rent(take);
                dones = ArrayPool<Wait>.Shared.Rent(take);
                for (var i = 0; i < take; i++) (items[i], dones[i]) = _queued[i];
                _queued.RemoveRange(0, take);
            }
            try
            {
                var results = await runBatch(new ArraySegment<TItem>(items, 0, take)).ConfigureAwait(false);
                for (var i = 0; i < take; i++)
                {
                    if (results[i].Error is { } error) dones[i].Fail(error);
                    else dones[i].Succeed(results[i].Value!);
                }
            }
            catch (Exception ex)
            {
                // The call itself failed (network, server): every caller sees the error; what each one does
                // about it (retry, leave the entry for reclaim) is the caller's decision.
                for (var i = 0; i < take; i++) dones[i].Fail(ex);
            }
            finally
            {
                ArrayPool<TItem>.Shared.Return(items, clearArray: true);
                ArrayPool<Wait>.Shared.Return(dones, clearArray: true);
            }
        }
    }

    /// <summary>One caller's wait for its item's result: back in the pool once the caller has its result.</summary>
    private sealed class Wait(TransitionBatcher<TItem, TResult> owner) : IValueTaskSource<TResult>
    {
        private ManualResetValueTaskSourceCore<TResult> _core = new() { RunContinuationsAsynchronously = true };

        public ValueTask<TResult> Task => new(this, _core.Version);

        public void Succeed(TResult result) => _core.SetResult(result);

        public void Fail(Exception error) => _core.SetException(error);

        TResult IValueTaskSource<TResult>.GetResult(short token)
        {
            // A token of an earlier use (a value task read twice) throws here and leaves the wait to its current caller.
            if (token != _core.Version) return _core.GetResult(token);
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                _core.Reset();
                owner.Return(this);
            }
        }

        ValueTaskSourceStatus IValueTaskSource<TResult>.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource<TResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    private void Return(Wait wait)
    {
        lock (_gate)
        {
            if (_idleWaits.Count < PooledWaitsKept) _idleWaits.Push(wait);
        }
    }
}
