using System.Collections.Concurrent;
using System.Threading.Channels;

namespace MageFlow.Runtime.Tests.Infrastructure;

/// <summary>
/// Lets a test hold a task body at a known point: a body calls <see cref="PassAsync"/> and waits there until the
/// test opens its gate once (to go on, or to throw a given error). Each run needs its own opening, so a test
/// decides the outcome of every attempt; a wait cut short by the body's cancellation token is recorded.
/// </summary>
internal sealed class Gates
{
    private readonly ConcurrentDictionary<string, Channel<Exception?>> _permits = new();
    private readonly ConcurrentDictionary<string, int> _entered = new();
    private readonly ConcurrentDictionary<string, int> _cancelled = new();

    private Channel<Exception?> PermitsOf(string id) => _permits.GetOrAdd(id, _ => Channel.CreateUnbounded<Exception?>());

    /// <summary>Called by a body: waits for one opening; throws the error it carries.</summary>
    public async Task PassAsync(string id, CancellationToken cancellationToken)
    {
        _entered.AddOrUpdate(id, 1, (_, n) => n + 1);
        Exception? error;
        try
        {
            error = await PermitsOf(id).Reader.ReadAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _cancelled.AddOrUpdate(id, 1, (_, n) => n + 1);
            throw;
        }
        if (error is not null) throw error;
    }

    /// <summary>Lets one run through: it returns normally, or throws <paramref name="error"/>.</summary>
    public void Open(string id, Exception? error = null) => PermitsOf(id).Writer.TryWrite(error);

    public int Entered(string id) => _entered.GetValueOrDefault(id);

    /// <summary>How many runs of <paramref name="id"/> had their wait cancelled by their token.</summary>
    public int Cancelled(string id) => _cancelled.GetValueOrDefault(id);

    public Task WaitEnteredAsync(string id, int count = 1) =>
        Recorder.WaitUntilAsync(() => Task.FromResult(Entered(id) >= count), $"{count} run(s) of {id} reach their gate");

    public Task WaitCancelledAsync(string id, int count = 1) =>
        Recorder.WaitUntilAsync(() => Task.FromResult(Cancelled(id) >= count), $"{count} run(s) of {id} are cancelled at their gate");
}
