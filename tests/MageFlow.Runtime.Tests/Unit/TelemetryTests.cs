using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MageFlow.Backends.InMemory;
using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Unit;

public sealed class TelemetryTests
{
    private sealed record Ping(string Id);

    [Fact]
    public async Task Each_attempt_is_a_trace_and_a_count_by_outcome()
    {
        var task = $"ping-{Guid.NewGuid():N}";
        var outcomes = new ConcurrentQueue<string>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MageFlowTelemetry.Name && instrument.Name == "mageflow.runs.finished") listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var values = tags.ToArray().ToDictionary(t => t.Key, t => t.Value as string);
            if (values["mageflow.task"] == task) outcomes.Enqueue(values["mageflow.outcome"]!);
        });
        meters.Start();
        var activities = new ConcurrentQueue<Activity>();
        using var traces = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MageFlowTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Kind == ActivityKind.Consumer && Equals(activity.GetTagItem("mageflow.task"), task)) activities.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(traces);

        var store = new InMemoryBackend();
        await using var cluster = await TestCluster.StartAsync(o => o.UseInMemory(store), o => o.AddTask(
            TaskDescriptor.Create<Ping>(task, (_, context, _) => context.Attempt == 1 ? throw new InvalidOperationException("first") : ValueTask.CompletedTask,
                new TaskOptions { Retries = 1 })));
        var ping = await cluster.Client.AsignAsync(task);
        await ping.RunAsync(new Ping("p"));
        await Recorder.WaitUntilAsync(() => Task.FromResult(outcomes.Count == 2 && activities.Count == 2), "two attempts are recorded");

        Assert.Equal(["retried", "done"], outcomes);
        Assert.All(activities, a => Assert.Equal(ping.Id, a.GetTagItem("mageflow.signature_id")));
        Assert.Equal([1, 2], activities.Select(a => (int)a.GetTagItem("mageflow.attempt")!));
    }

    [Fact]
    public async Task Runs_in_flight_and_their_queue_wait_are_measured_per_task()
    {
        var task = $"wait-{Guid.NewGuid():N}";
        long inFlight = 0;
        var waits = new ConcurrentQueue<double>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MageFlowTelemetry.Name && instrument.Name is "mageflow.runs.in_flight" or "mageflow.run.queue_wait")
                listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (Equals(TagOf(tags, "mageflow.task"), task)) Interlocked.Add(ref inFlight, value);
        });
        meters.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            if (Equals(TagOf(tags, "mageflow.task"), task)) waits.Enqueue(value);
        });
        meters.Start();
        var gate = new TaskCompletionSource();
        var store = new InMemoryBackend();
        await using var cluster = await TestCluster.StartAsync(o => o.UseInMemory(store), o => o.AddTask(
            TaskDescriptor.Create<Ping>(task, async (_, _, ct) => await gate.Task.WaitAsync(ct))));
        var ping = await cluster.Client.AsignAsync(task);

        await ping.RunAsync(new Ping("p"));

        await Recorder.WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref inFlight) == 1), "the run is counted in flight");
        var wait = Assert.Single(waits);
        Assert.InRange(wait, 0, 20); // seconds, from queued to started
        gate.SetResult();
        await Recorder.WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref inFlight) == 0), "the finished run is no longer in flight");
    }

    private static object? TagOf(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags) if (tag.Key == name) return tag.Value;
        return null;
    }
}
