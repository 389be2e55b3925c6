using System.Globalization;
using MageFlow.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MageFlow.Reliability.Tests;

/// <summary>
/// Rules 28-30 across processes: a swarm's items run on two worker processes and never more than
/// <c>MaxConcurrency</c> at once — measured by a sweep over the start and end times the bodies recorded — and a
/// worker SIGKILLed while it runs items (its runs taken over after the visibility timeout) loses no item and
/// starts none twice from the swarm: every item ends once, and the swarm's success callback runs once with every
/// result. Items: <c>MAGEFLOW_FAULT_TRIALS</c> × 3 (at least 60).
/// </summary>
public sealed class SwarmTests(ITestOutputHelper output)
{
    private const int MaxConcurrency = 4;

    [Theory]
    [InlineData(RedisTopology.OneServer)]
    [InlineData(RedisTopology.Cluster)]
    [InlineData(RedisTopology.PartitionedCluster)]
    public async Task Swarm_items_on_two_worker_processes_respect_MaxConcurrency_and_a_killed_worker_loses_none(RedisTopology topology)
    {
        var items = Math.Max(60, Figures.FaultTrials * 3);
        await using var cluster = await ReliabilityCluster.CreateAsync(output, topology: topology);
        var settings = new WorkerSettings { VisibilityMs = 1500, MaxStalls = 1000 };
        await cluster.StartWorkerAsync("callbacks", settings with { Tasks = [ReliabilityTasks.OnDone, ReliabilityTasks.OnFailed, ReliabilityTasks.OnSwarmDone] });
        await cluster.StartWorkerAsync("survivor", settings with { Tasks = [ReliabilityTasks.Work] });
        var victim = await cluster.StartWorkerAsync("victim", settings with { Tasks = [ReliabilityTasks.Work] });
        var canary = await cluster.SignAndRunWorkAsync("canary", sleepMs: 0);
        await Outcome.WaitForCallbacksAsync(cluster, [canary], TimeSpan.FromSeconds(30));

        var summary = await cluster.Mage.AsignAsync<SwarmDoneMessage>(ReliabilityTasks.OnSwarmDone, new { swarm = "s1" });
        var swarm = await cluster.Mage.SwarmAsync(new SwarmOptions { MaxConcurrency = MaxConcurrency }, successCallbacks: [summary]);
        var ids = Enumerable.Range(0, items).Select(i => $"item-{i:D4}").ToArray();
        foreach (var id in ids)
            await swarm.RunInSwarmAsync(await cluster.Mage.AsignAsync<WorkMessage>(ReliabilityTasks.Work), new WorkMessage(id, SleepMs: 150));
        await swarm.CloseAsync();

        // Kill the victim while it runs items of the swarm.
        await cluster.WaitUntilAsync("the victim runs items", TimeSpan.FromSeconds(30),
            async () => (await cluster.MembersAsync("started")).Any(m => m.Contains($"|{victim.Pid}:", StringComparison.Ordinal)));
        await victim.KillAsync();
        cluster.Log($"victim (pid {victim.Pid}) killed");

        await cluster.WaitUntilAsync("the swarm's success callback has run", TimeSpan.FromSeconds(120),
            async () => (await cluster.MembersAsync("swarm-callbacks")).Length > 0,
            async () => $"swarm {await swarm.GetStatusAsync()}, {(await swarm.GetInfoAsync()).Swarm}");

        var results = (await cluster.HashAsync("swarm-results"))["s1"].Split(',');
        var callbackRuns = (await cluster.MembersAsync("swarm-callbacks")).Length;
        var finishedBodies = (await cluster.MembersAsync("bodies")).Select(m => m.Split('|')[0]).Where(id => id.StartsWith("item-", StringComparison.Ordinal)).ToArray();
        var most = MostAtOnce(await cluster.MembersAsync("started"), await cluster.MembersAsync("ended"), victim.Pid);
        var lost = ids.Except(results).Count();
        var duplicated = results.Length - results.Distinct().Count();
        cluster.Log(Figures.Line(1, items, lost, duplicated,
            $"maxConcurrency={MaxConcurrency} mostRunningAtOnce={most} bodiesFinished={finishedBodies.Length} swarmCallbacks={callbackRuns}"));

        Assert.Equal(SignatureStatus.Done, await swarm.GetStatusAsync());
        Assert.Equal(ids, results);
        Assert.Equal(1, callbackRuns);
        Assert.InRange(most, 1, MaxConcurrency);
    }

    /// <summary>
    /// The most bodies that ran at the same moment, from their recorded start and end times (a sweep over the
    /// intervals). A body on the killed worker never recorded its end: it counts as running until its item was
    /// started again by the worker that took it over (its slot is that item's slot), which never understates.
    /// </summary>
    private static int MostAtOnce(string[] started, string[] ended, int killedPid)
    {
        // started: "{id}|{pid}:{unixMs at start}:{random}"; ended: the same, then "|{unixMs at end}"
        static (string Id, string Run, int Pid, long At) Parse(string member)
        {
            var (id, run) = (member.Split('|')[0], member.Split('|')[1]);
            var parts = run.Split(':');
            return (id, run, int.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        static bool IsItem(string member) => member.StartsWith("item-", StringComparison.Ordinal);
        var ends = ended.Where(IsItem).ToDictionary(m => m.Split('|')[1], m => long.Parse(m.Split('|')[2], CultureInfo.InvariantCulture));
        var starts = started.Where(IsItem).Select(Parse).ToArray();
        var events = new List<(long At, int Change)>();
        foreach (var start in starts)
        {
            events.Add((start.At, +1));
            if (ends.TryGetValue(start.Run, out var end))
            {
                events.Add((end, -1));
                continue;
            }
            if (start.Pid != killedPid) throw new InvalidOperationException($"Run {start.Run} of {start.Id} started on a live worker and never ended.");
            var takenOver = starts.Where(s => s.Id == start.Id && s.At >= start.At && s.Run != start.Run).Select(s => (long?)s.At).Min();
            if (takenOver is { } at) events.Add((at, -1));
        }
        var running = 0;
        var most = 0;
        // Ends before starts at the same millisecond: a slot freed and taken in the same ms is not an overlap.
        foreach (var (_, change) in events.OrderBy(e => e.At).ThenBy(e => e.Change))
        {
            running += change;
            most = Math.Max(most, running);
        }
        return most;
    }
}
