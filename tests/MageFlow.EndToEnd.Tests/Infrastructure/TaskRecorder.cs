using System.Collections.Concurrent;

namespace MageFlow.EndToEnd.Tests;

/// <summary>
/// What the tasks received, keyed by order id so tests running side by side (and earlier hosts' late runs)
/// never see each other's records.
/// </summary>
public static class TaskRecorder
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<Received>> ByKey = new(StringComparer.Ordinal);

    public static void Record(string key, string taskName, object message, string? failedTask = null) =>
        ByKey.GetOrAdd(key, _ => new ConcurrentQueue<Received>()).Enqueue(new Received(taskName, message, failedTask));

    public static IReadOnlyList<Received> For(string key) =>
        ByKey.TryGetValue(key, out var queue) ? queue.ToArray() : [];

    public static IReadOnlyList<TMessage> Messages<TMessage>(string key, string taskName) =>
        For(key).Where(r => r.TaskName == taskName).Select(r => (TMessage)r.Message).ToArray();

    /// <param name="TaskName">The task that ran.</param>
    /// <param name="Message">The message it received.</param>
    /// <param name="FailedTask">For an error callback, the task whose failure it handles.</param>
    public sealed record Received(string TaskName, object Message, string? FailedTask);
}
