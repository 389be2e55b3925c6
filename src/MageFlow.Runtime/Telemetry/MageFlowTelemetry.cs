using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MageFlow;

/// <summary>
/// Traces and metrics under the name <c>MageFlow</c>: subscribe with OpenTelemetry
/// (<c>.AddSource(MageFlowTelemetry.Name)</c>, <c>.AddMeter(MageFlowTelemetry.Name)</c>) or any listener.
/// With no listener attached, nothing is recorded. Names and attributes follow the OpenTelemetry semantic conventions
/// for messaging where they fit (a run is a message processed from the task's queue); docs/observability.md lists them.
/// </summary>
public static class MageFlowTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "MageFlow";

    private const string TaskTag = "mageflow.task";

    internal static readonly ActivitySource Source = new(Name, typeof(MageFlowTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Meter Meter = new(Name, typeof(MageFlowTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> RunsStarted = Meter.CreateCounter<long>("mageflow.runs.started", unit: "{run}", description: "Attempts started");

    internal static readonly Counter<long> RunsFinished = Meter.CreateCounter<long>("mageflow.runs.finished", unit: "{run}",
        description: "Attempts finished, by outcome (done, failed, retried, stopped: interrupted or canceled, abandoned: handed back at shutdown)");

    internal static readonly UpDownCounter<long> RunsInFlight = Meter.CreateUpDownCounter<long>("mageflow.runs.in_flight", unit: "{run}",
        description: "Attempts running in this process now");

    internal static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>("mageflow.run.duration", unit: "s",
        description: "Time from an attempt's start to its outcome recorded (the body, and the transition that records it)");

    internal static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("mageflow.run.queue_wait", unit: "s",
        description: "Time a run waited in its task's queue, from queued to started");

    /// <summary>
    /// The producer's span around queuing a run (<c>send {task}</c>); the run's span becomes its child. Null when no
    /// listener samples it.
    /// </summary>
    internal static Activity? StartSend(string taskName, string signatureId)
    {
        // No listener, no span: and no span name built for nobody.
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity($"send {taskName}", ActivityKind.Producer);
        if (activity is null) return null;
        SetMessagingTags(activity, "send", taskName, signatureId);
        return activity;
    }

    /// <summary>
    /// A run's span (<c>process {task}</c>), child of the span that queued it when <paramref name="traceParent"/> names
    /// one (a producer's send, or the run whose outcome fired this callback, chain step or swarm item).
    /// </summary>
    internal static Activity? StartRun(string taskName, string signatureId, int attempt, string? traceParent)
    {
        if (!Source.HasListeners()) return null;
        ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent);
        var activity = Source.StartActivity($"process {taskName}", ActivityKind.Consumer, parent);
        if (activity is null) return null;
        SetMessagingTags(activity, "process", taskName, signatureId);
        activity.SetTag("mageflow.attempt", attempt);
        return activity;
    }

    /// <summary>The W3C traceparent of the current span, which the backends store with every run they queue; null when there is none.</summary>
    internal static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    internal static void RecordQueueWait(string taskName, DateTimeOffset queuedAt, DateTimeOffset startedAt)
    {
        if (queuedAt == default || !QueueWait.Enabled) return;
        QueueWait.Record(Math.Max(0, (startedAt - queuedAt).TotalSeconds), new KeyValuePair<string, object?>(TaskTag, taskName));
    }

    internal static void RecordOutcome(Activity? activity, string taskName, string outcome, long startTimestamp)
    {
        var task = new KeyValuePair<string, object?>(TaskTag, taskName);
        RunsFinished.Add(1, task, new KeyValuePair<string, object?>("mageflow.outcome", outcome));
        RunDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, task);
        if (activity is null) return;
        activity.SetTag("mageflow.outcome", outcome);
        if (outcome is "failed" or "retried") activity.SetStatus(ActivityStatusCode.Error);
    }

    private static void SetMessagingTags(Activity activity, string operation, string taskName, string signatureId)
    {
        activity.SetTag("messaging.system", "mageflow");
        activity.SetTag("messaging.operation.type", operation);
        activity.SetTag("messaging.destination.name", taskName);
        activity.SetTag(TaskTag, taskName);
        activity.SetTag("mageflow.signature_id", signatureId);
    }
}
