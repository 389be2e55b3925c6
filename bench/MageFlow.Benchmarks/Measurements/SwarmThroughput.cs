using System.Diagnostics;
using MageFlow.Benchmarks.Infrastructure;
using MageFlow.Benchmarks.Reporting;
using MageFlow.Benchmarks.Workload;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Benchmarks.Measurements;

/// <summary>One repetition of the swarm run, with the Redis commands executed while signing and while adding + running.</summary>
internal sealed record SwarmSample(int Items, double AddSeconds, double WorkerStartSeconds, double TotalSeconds, CommandDelta SignCommands, CommandDelta RunCommands)
{
    /// <summary>Items per second, from the first add to the summary callback.</summary>
    public double ItemsPerSecond => Items / TotalSeconds;
}

/// <summary>
/// N work items in one swarm (<see cref="MaxConcurrency"/>) with a summary success callback, on Redis. The items,
/// the swarm and the summary are signed first (untimed); then the items are added with their messages and the
/// swarm closed, one worker host starts, and the clock stops when the summary callback has run. The same
/// order as the end-to-end pairs (producer first, then the worker), so the two rates compare.
/// </summary>
internal static class SwarmThroughput
{
    public const int MaxConcurrency = 100;

    public static string Description =>
        $"one swarm, MaxConcurrency {MaxConcurrency}, with a summary success callback that gets the N results; sign N items (no callbacks) + the swarm + the summary (untimed), then timed: " +
        $"N RunInSwarmAsync with each item's message ({MageFlowEndToEnd.ProducerLanes} in flight) + CloseAsync, start one worker host ({ReportWriter.WorkerDefaults}), until the summary callback ran";

    public static async Task<SwarmSample> RunAsync(RedisChoice backend, BenchWorkload workload, RedisInfo info, int items, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await backend.ResetAsync().ConfigureAwait(false);
        var probe = new RunProbe(items);
        RunProbe.Activate(probe);
        var producer = await MageHost.StartAsync(backend, workload, withWorker: false).ConfigureAwait(false);
        try
        {
            var mage = producer.Services.GetRequiredService<IMageFlow>();
            var beforeSign = await info.SnapshotAsync().ConfigureAwait(false);
            var summary = await workload.SignSwarmSummaryAsync(mage).ConfigureAwait(false);
            var swarm = await mage.SwarmAsync(new SwarmOptions { MaxConcurrency = MaxConcurrency }, successCallbacks: [summary], cancellationToken: cancellationToken).ConfigureAwait(false);
            var signed = new TaskSignature<WorkMessage>[items];
            await Concurrency.WithTimeout(
                Concurrency.ForEachAsync(items, MageFlowEndToEnd.ProducerLanes, async i => signed[i] = await workload.SignSwarmItemAsync(mage).ConfigureAwait(false), cancellationToken),
                timeout, () => $"Swarm: signing {items} items did not finish", cancellationToken).ConfigureAwait(false);
            var beforeRun = await info.SnapshotAsync().ConfigureAwait(false);

            var clock = Stopwatch.StartNew();
            await Concurrency.WithTimeout(
                Concurrency.ForEachAsync(items, MageFlowEndToEnd.ProducerLanes, i => swarm.RunInSwarmAsync(signed[i], new WorkMessage(i), cancellationToken), cancellationToken),
                timeout, () => $"Swarm: adding {items} items did not finish", cancellationToken).ConfigureAwait(false);
            await swarm.CloseAsync(cancellationToken).ConfigureAwait(false);
            var addSeconds = clock.Elapsed.TotalSeconds;

            var worker = await MageHost.StartAsync(backend, workload, withWorker: true).ConfigureAwait(false);
            var workerStartSeconds = clock.Elapsed.TotalSeconds - addSeconds;
            double totalSeconds;
            try
            {
                await Concurrency.WithTimeout(probe.SwarmResults, timeout,
                    () => $"Swarm: the summary callback did not run; swarm {swarm.Id}", cancellationToken).ConfigureAwait(false);
                totalSeconds = clock.Elapsed.TotalSeconds;
            }
            finally
            {
                // Stopping waits for the runs in flight, so the summary's completion is in the counters below.
                await MageHost.StopAsync(worker).ConfigureAwait(false);
            }
            var results = await probe.SwarmResults.ConfigureAwait(false);
            if (results != items) throw new InvalidOperationException($"Swarm {swarm.Id}: the summary callback received {results} results for {items} items.");
            var afterRun = await info.SnapshotAsync().ConfigureAwait(false);
            return new SwarmSample(items, addSeconds, workerStartSeconds, totalSeconds, beforeRun.Since(beforeSign), afterRun.Since(beforeRun));
        }
        finally
        {
            await MageHost.StopAsync(producer).ConfigureAwait(false);
        }
    }
}
