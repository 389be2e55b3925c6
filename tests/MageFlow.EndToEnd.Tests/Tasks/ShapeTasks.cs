using System.Text.Json;

namespace MageFlow.EndToEnd.Tests.Tasks;

public sealed record ShapeMessage(string Key);

/// <summary>Success callback for any result type: the raw JSON of the result lands in <see cref="Result"/>.</summary>
public sealed record ShapeResultMessage([property: ReturnValue] JsonElement? Result, string Key);

/// <summary>One task per return shape and parameter order the generator adapts, plus option wiring.</summary>
public static class ShapeTasks
{
    public const string ResultTask = "shape-result";
    public const string FailedTask = "shape-failed";

    [MageTask("shape-sync-void")]
    public static void SyncVoid(ShapeMessage message) => TaskRecorder.Record(message.Key, "shape-sync-void", message);

    [MageTask("shape-sync-value")]
    public static int SyncValue(CancellationToken ct, ShapeMessage message)
    {
        ct.ThrowIfCancellationRequested();
        return message.Key.Length;
    }

    [MageTask("shape-value-task")]
    public static ValueTask ValueTaskVoid(ShapeMessage message, TaskContext context)
    {
        TaskRecorder.Record(message.Key, context.TaskName, message);
        return ValueTask.CompletedTask;
    }

    [MageTask("shape-value-task-value")]
    public static async ValueTask<string> ValueTaskValue(TaskContext context, ShapeMessage message, CancellationToken ct)
    {
        await Task.Yield();
        ct.ThrowIfCancellationRequested();
        return $"{context.TaskName}:{message.Key}";
    }

    [MageTask("shape-no-message")]
    public static Task<int> WithoutMessage(TaskContext context) => Task.FromResult(context.Attempt * 7);

    /// <summary>Never finishes in time: the 1 s timeout must cancel it and count the attempt as failed.</summary>
    [MageTask("shape-slow", TimeoutSeconds = 1)]
    public static async Task Slow(ShapeMessage message, CancellationToken ct) => await Task.Delay(TimeSpan.FromMinutes(1), ct);

    [MageTask(ResultTask)]
    public static void ShapeResult(ShapeResultMessage message) =>
        TaskRecorder.Record(message.Key, ResultTask, message.Result is { } result ? result.GetRawText() : "null");

    [MageTask(FailedTask)]
    public static void ShapeFailed(ShapeMessage message, TaskContext context) =>
        TaskRecorder.Record(message.Key, FailedTask, message, context.Failure?.Error);
}
