using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MageFlow;

/// <summary>
/// Traces and metrics under the name <c>MageFlow</c>: subscribe with OpenTelemetry
/// (<c>.AddSource(MageFlowTelemetry.Name)</c>, <c>.AddMeter(MageFlowTelemetry.Name)</c>) or any listener.
/// With no listener attached, nothing is recorded.
/// </summary>
public static class MageFlowTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "MageFlow";

    internal static readonly ActivitySource Source = new(Name, typeof(MageFlowTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Meter Meter = new(Name, typeof(MageFlowTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> RunsStarted = Meter.CreateCounter<long>("mageflow.runs.started", description: "Attempts started");

    internal static readonly Counter<long> RunsFinished = Meter.CreateCounter<long>("mageflow.runs.finished", description: "Attempts finished, by outcome (done, failed, retried, abandoned)");

    internal static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>("mageflow.run.duration", unit: "ms", description: "Time spent in the task body per attempt");

    internal static Activity? StartRun(string taskName, string signatureId, int attempt)
    {
        var activity = Source.StartActivity($"mageflow.run {taskName}", ActivityKind.Consumer);
        if (activity is null) return null;
        activity.SetTag("mageflow.task", taskName);
        activity.SetTag("mageflow.signature_id", signatureId);
        activity.SetTag("mageflow.attempt", attempt);
        return activity;
    }

    internal static void RecordOutcome(Activity? activity, string taskName, string outcome, long startTimestamp)
    {
        var task = new KeyValuePair<string, object?>("mageflow.task", taskName);
        RunsFinished.Add(1, task, new KeyValuePair<string, object?>("mageflow.outcome", outcome));
        RunDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, task);
        if (activity is null) return;
        activity.SetTag("mageflow.outcome", outcome);
        if (outcome is "failed" or "retried") activity.SetStatus(ActivityStatusCode.Error);
    }
}
