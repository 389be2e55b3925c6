namespace MageFlow.Benchmarks.Workload;

/// <summary>The work task's message: the index comes with each run, the source is bound when signing.</summary>
public sealed record WorkMessage(int Index, string? Source = null);

public sealed record WorkResult(int Index, long Checksum);

/// <summary>The success callback's message: the index is bound when signing, the result arrives from the task.</summary>
public sealed record DoneMessage(int Index, [property: ReturnValue] WorkResult? Result = null);

/// <summary>The swarm's success callback's message: the results of its items arrive when the swarm completes.</summary>
public sealed record SwarmSummaryMessage([property: ReturnValue] IReadOnlyList<WorkResult>? Results = null);

/// <summary>
/// The benchmark tasks, described by hand exactly as generated code describes them. The bodies do no
/// work of their own so the figures are the library's cost.
/// </summary>
internal static class BenchTasks
{
    public const string Work = "bench-work";
    public const string Done = "bench-done";
    public const string SwarmSummary = "bench-swarm-summary";

    public static IEnumerable<TaskDescriptor> Descriptors()
    {
        yield return TaskDescriptor.Create<WorkMessage, WorkResult>(Work, (message, _, _) =>
        {
            var result = new WorkResult(message.Index, message.Index * 31L);
            RunProbe.Current.WorkEnded(message.Index);
            return ValueTask.FromResult(result);
        });

        yield return TaskDescriptor.Create<DoneMessage>(Done, (message, _, _) =>
        {
            var probe = RunProbe.Current;
            probe.CallbackStarted(message.Index);
            if (message.Result is null) throw new InvalidOperationException($"Callback {message.Index} received no result.");
            probe.CallbackFinished(message.Index);
            return ValueTask.CompletedTask;
        }, new TaskOptions { ReturnField = "result" });

        yield return TaskDescriptor.Create<SwarmSummaryMessage>(SwarmSummary, (message, _, _) =>
        {
            RunProbe.Current.SwarmSummarized(message.Results);
            return ValueTask.CompletedTask;
        }, new TaskOptions { ReturnField = "results" });
    }
}
