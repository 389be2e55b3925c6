using System.Buffers;

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
/// until its task ends: it must not keep them.
/// </summary>
internal sealed class TransitionBatcher<TItem, TResult>(
    Func<IReadOnlyList<TItem>, Task<ItemResult<TResult>[]>> runBatch,
    int maxBatch,
    Func<TItem, long>? sizeOf = null,
    long maxBytes = long.MaxValue)
{
    /// <summary>How many batches of one transition may be on the wire at once.</summary>
    public const int BatchesInFlight = 2;

    private readonly Lock _gate = new();
    private readonly List<(TItem Item, TaskCompletionSource<TResult> Done)> _queued = [];

    // Batches on the wire (each sent by its own flush loop). Under _gate.
    private int _flushing;

    public Task<TResult> RunAsync(TItem item)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool startFlushing;
        lock (_gate)
        {
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
            TaskCompletionSource<TResult>[] dones;
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
                dones = ArrayPool<TaskCompletionSource<TResult>>.Shared.Rent(take);
                for (var i = 0; i < take; i++) (items[i], dones[i]) = _queued[i];
                _queued.RemoveRange(0, take);
            }
            try
            {
                var results = await runBatch(new ArraySegment<TItem>(items, 0, take)).ConfigureAwait(false);
                for (var i = 0; i < take; i++)
                {
                    if (results[i].Error is { } error) dones[i].TrySetException(error);
                    else dones[i].TrySetResult(results[i].Value!);
                }
            }
            catch (Exception ex)
            {
                // The call itself failed (network, server): every caller sees the error; what each one does
                // about it (retry, leave the entry for reclaim) is the caller's decision.
                for (var i = 0; i < take; i++) dones[i].TrySetException(ex);
            }
            finally
            {
                ArrayPool<TItem>.Shared.Return(items, clearArray: true);
                ArrayPool<TaskCompletionSource<TResult>>.Shared.Return(dones, clearArray: true);
            }
        }
    }
}
