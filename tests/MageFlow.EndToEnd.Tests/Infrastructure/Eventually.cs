using System.Diagnostics;

namespace MageFlow.EndToEnd.Tests;

/// <summary>Bounded polling instead of fixed sleeps: returns as soon as the condition holds.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    public static Task Until(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Until(() => Task.FromResult(condition()), what, timeout);

    public static async Task Until(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit) throw new TimeoutException($"Waited {limit.TotalSeconds:0.#} s for: {what}.");
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Waits until <paramref name="key"/> has <paramref name="count"/> records of <paramref name="taskName"/>, then returns them.</summary>
    public static async Task<IReadOnlyList<TMessage>> Received<TMessage>(string key, string taskName, int count = 1)
    {
        await Until(() => TaskRecorder.Messages<TMessage>(key, taskName).Count >= count, $"{count} run(s) of '{taskName}' for '{key}'");
        return TaskRecorder.Messages<TMessage>(key, taskName);
    }
}
