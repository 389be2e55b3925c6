namespace MageFlow.Backends.Redis;

/// <summary>
/// Group commit for one transition script: calls that arrive while a batch is on the wire are sent together
/// in the next one, so N concurrent runs cost one round trip instead of N. An idle call is sent at once
/// (no timer, no added latency); at most one batch of this transition is in flight.
/// </summary>
internal sealed class TransitionBatcher<TItem, TResult>(Func<IReadOnlyList<TItem>, Task<TResult[]>> runBatch, int maxBatch)
{
    private readonly Lock _gate = new();
    private readonly List<(TItem Item, TaskCompletionSource<TResult> Done)> _queued = [];
    private bool _flushing;

    public Task<TResult> RunAsync(TItem item)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool startFlushing;
        lock (_gate)
        {
            _queued.Add((item, done));
            startFlushing = !_flushing;
            _flushing = true;
        }
        if (startFlushing) _ = FlushAsync();
        return done.Task;
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            (TItem Item, TaskCompletionSource<TResult> Done)[] batch;
            lock (_gate)
            {
                if (_queued.Count == 0)
                {
                    _flushing = false;
                    return;
                }
                var take = Math.Min(_queued.Count, maxBatch);
                batch = _queued.GetRange(0, take).ToArray();
                _queued.RemoveRange(0, take);
            }
            try
            {
                var results = await runBatch(batch.Select(b => b.Item).ToArray()).ConfigureAwait(false);
                for (var i = 0; i < batch.Length; i++) batch[i].Done.TrySetResult(results[i]);
            }
            catch (Exception ex)
            {
                // The whole script failed (nothing of it applied): every caller sees the error and its entry
                // stays pending for reclaim, exactly as with one call each.
                foreach (var (_, done) in batch) done.TrySetException(ex);
            }
        }
    }
}
