using System.Collections.Concurrent;
using MageFlow.Backends;
using MageFlow.Signatures;
using Microsoft.Extensions.Logging;

namespace MageFlow;

/// <summary>
/// Everyone in this client waiting for a signature to finish (<c>RunAndWaitAsync</c>). One subscription to the
/// store's <see cref="SignalKind.Finished"/> signals serves every waiter, and one loop per client reads the status of
/// everything still awaited now and then, so a lost signal delays a waiter but never hangs it. No waiter polls.
/// </summary>
internal sealed class SignatureWaiters(IMageBackend backend, ILogger logger, TimeSpan checkInterval) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Waiting> _waiting = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _subscribeGate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private IAsyncDisposable? _subscription;
    private Task? _checkLoop;

    /// <summary>Signatures waited on now (for tests).</summary>
    internal int Count => _waiting.Count;

    /// <summary>
    /// Registers a waiter for <paramref name="id"/>, runs <paramref name="dispatch"/> (which queues the run and marks
    /// the signature awaited), and completes with the signature as stored once it is Done, Failed or Canceled.
    /// </summary>
    public async Task<SignatureRecord> WaitAsync(string id, Func<Task> dispatch, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        await EnsureListeningAsync(cancellationToken).ConfigureAwait(false);
        var waiter = new TaskCompletionSource<SignatureRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = Register(id, waiter);
        try
        {
            await dispatch().ConfigureAwait(false);
            // A signal sent before this waiter existed is not lost: the first read sees what it announced.
            await CheckAsync(id).ConfigureAwait(false);
            return timeout is { } limit
                ? await waiter.Task.WaitAsync(limit, cancellationToken).ConfigureAwait(false)
                : await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (waiting)
            {
                waiting.Waiters.Remove(waiter);
                if (waiting.Waiters.Count == 0)
                {
                    waiting.Removed = true;
                    _waiting.TryRemove(KeyValuePair.Create(id, waiting));
                }
            }
        }
    }

    private Waiting Register(string id, TaskCompletionSource<SignatureRecord> waiter)
    {
        while (true)
        {
            var waiting = _waiting.GetOrAdd(id, static _ => new Waiting());
            lock (waiting)
            {
                // Emptied and being removed by the last waiter that left: take a fresh one.
                if (waiting.Removed) continue;
                waiting.Waiters.Add(waiter);
                return waiting;
            }
        }
    }

    private async Task EnsureListeningAsync(CancellationToken cancellationToken)
    {
        if (_subscription is not null) return;
        await _subscribeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (_subscription is not null) return;
            _subscription = await backend.SubscribeAsync(SignalKind.Finished, OnFinished, cancellationToken).ConfigureAwait(false);
            _checkLoop = CheckLoopAsync(_disposed.Token);
        }
        finally
        {
            _subscribeGate.Release();
        }
    }

    private void OnFinished(string id)
    {
        if (_waiting.ContainsKey(id)) _ = CheckAsync(id);
    }

    /// <summary>Reads the signature and completes its waiters when it has finished (or no longer exists).</summary>
    private async Task CheckAsync(string id)
    {
        if (!_waiting.TryGetValue(id, out var waiting)) return;
        SignatureRecord? record;
        try
        {
            record = await backend.GetSignatureAsync(id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.WaitCheckFailed(logger, ex, ex.Message); // the next check tries again
            return;
        }
        if (record is not null && !record.Status.IsFinished()) return;
        TaskCompletionSource<SignatureRecord>[] done;
        lock (waiting) done = waiting.Waiters.ToArray();
        foreach (var waiter in done)
        {
            if (record is null) waiter.TrySetException(new SignatureNotFoundException(id));
            else waiter.TrySetResult(record);
        }
    }

    private async Task CheckLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(checkInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                await Task.WhenAll(_waiting.Keys.Select(CheckAsync)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        await _disposed.CancelAsync().ConfigureAwait(false);
        if (_checkLoop is { } loop) await loop.ConfigureAwait(false);
        if (_subscription is { } subscription) await subscription.DisposeAsync().ConfigureAwait(false);
        foreach (var waiting in _waiting.Values)
        {
            lock (waiting)
            {
                foreach (var waiter in waiting.Waiters) waiter.TrySetException(new ObjectDisposedException(nameof(IMageFlow), "The MageFlow client was disposed while waiting for a signature."));
            }
        }
        _disposed.Dispose();
        _subscribeGate.Dispose();
    }

    private sealed class Waiting
    {
        public List<TaskCompletionSource<SignatureRecord>> Waiters { get; } = [];

        public bool Removed { get; set; }
    }
}
