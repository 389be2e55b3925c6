namespace MageFlow.Benchmarks.Infrastructure;

internal static class Concurrency
{
    /// <summary>
    /// Runs <paramref name="action"/> for 0..count-1 with at most <paramref name="lanes"/> awaiting at once: how a
    /// producer keeps the connection's pipeline full without an unbounded burst of pending tasks.
    /// </summary>
    public static Task ForEachAsync(int count, int lanes, Func<int, Task> action, CancellationToken cancellationToken)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Math.Min(lanes, Math.Max(count, 1))).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await action(index).ConfigureAwait(false);
            }
        }));
    }

    /// <summary>Awaits <paramref name="task"/> or fails with <paramref name="whatTimedOut"/> after <paramref name="limit"/>.</summary>
    public static async Task WithTimeout(Task task, TimeSpan limit, Func<string> whatTimedOut, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new MeasurementTimeoutException($"{whatTimedOut()} (limit {limit.TotalSeconds:0} s)");
        }
    }
}

internal sealed class MeasurementTimeoutException(string message) : Exception(message);
