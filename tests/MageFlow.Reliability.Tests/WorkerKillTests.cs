using System.Diagnostics;
using MageFlow.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MageFlow.Reliability.Tests;

/// <summary>
/// FAULT: a worker process is killed with SIGKILL (<c>kill -9</c>) while it holds runs.
///
/// Three worker processes share one redis-server: a callback worker serving only <c>on-done</c>/<c>on-failed</c>
/// (never killed, so every callback body count must be exactly 1), a survivor serving <c>work</c> (alive across all
/// trials) and a victim serving <c>work</c> that is killed and restarted once per trial. Trials cycle through three
/// crash points: right after dispatch (before the body starts), while bodies run, and a few milliseconds after a
/// batch of bodies ends together (group-committed completions in flight). Expected (semantics rules 8, 16, 18):
/// the runs are taken over after the visibility timeout, every task ends Done, every success callback runs exactly
/// once, and no signature stays Pending/Active. Trials: <c>MAGEFLOW_FAULT_TRIALS</c> (default 20).
///
/// A second test kills a worker in the middle of a body that outlives the active TTL (rule 19: a signature never
/// expires while it is Active, nor do its callbacks while it can still fire them; the TTL counts from the last activity).
/// </summary>
public sealed class WorkerKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan DoneTtl = TimeSpan.FromMinutes(5);

    [Theory]
    [InlineData(RedisTopology.OneServer)]
    [InlineData(RedisTopology.Cluster)]
    [InlineData(RedisTopology.PartitionedCluster)]
    public async Task KilledWorker_RunsAreTakenOver_AndEverySuccessCallbackRunsExactlyOnce(RedisTopology topology)
    {
        var total = Stopwatch.StartNew();
        var trials = Figures.FaultTrials;
        await using var cluster = await ReliabilityCluster.CreateAsync(output, topology: topology);
        // MaxStalls is high: a run may be taken over several times here (the victim is killed again and again);
        // the poison rule is PoisonTests' subject.
        var work = new WorkerSettings { Tasks = [ReliabilityTasks.Work], VisibilityMs = 1500, MaxStalls = 1000, DoneTtlMs = (int)DoneTtl.TotalMilliseconds };
        await cluster.StartWorkerAsync("callbacks", work with { Tasks = [ReliabilityTasks.OnDone, ReliabilityTasks.OnFailed] });
        await cluster.StartWorkerAsync("survivor", work with { Concurrency = 4 });
        var victim = await cluster.StartWorkerAsync("victim#1", work);

        var signed = new List<SignedTask>();
        var hits = new Dictionary<string, int> { ["before-start"] = 0, ["running"] = 0, ["completing"] = 0 };
        var heldAtKill = 0;
        var killedPids = new HashSet<int>();
        for (var trial = 0; trial < trials; trial++)
        {
            var point = (trial % 3) switch { 0 => "before-start", 1 => "running", _ => "completing" };
            switch (point)
            {
                case "before-start":
                    // Dispatch and kill at once: the victim may have read the entries but not started them.
                    await WaveAsync(cluster, victim, signed, trial, count: 4, sleepMs: 200, minimumOnVictim: 0);
                    break;
                case "running":
                    // Long bodies: wait until the victim runs some, then kill it mid-body.
                    await WaveAsync(cluster, victim, signed, trial, count: 8, sleepMs: 3000, minimumOnVictim: 2);
                    break;
                default:
                    // Many bodies that end together: kill a few ms after they end, while the batched completions fly.
                    var observed = await WaveAsync(cluster, victim, signed, trial, count: 40, sleepMs: 400, minimumOnVictim: 10);
                    var killAt = TimeSpan.FromMilliseconds(400 + (trial * 7 % 40));   // the crash point itself, not a wait for an outcome
                    if (observed.Elapsed < killAt) await Task.Delay(killAt - observed.Elapsed);
                    break;
            }
            var held = (await cluster.MembersAsync("started")).Count(m => m.Contains($"|{victim.Pid}:", StringComparison.Ordinal));
            await victim.KillAsync();
            killedPids.Add(victim.Pid);
            hits[point]++;
            if (held > 0) heldAtKill++;
            cluster.Log($"trial {trial + 1}/{trials}: killed {victim.Name} (pid {victim.Pid}) at '{point}'; bodies it had started so far: {held}");
            victim = await cluster.StartWorkerAsync($"victim#{trial + 2}", work);
        }

        await Outcome.WaitForCallbacksAsync(cluster, signed, TimeSpan.FromSeconds(60));
        var stuck = await cluster.StuckSignaturesAsync(DoneTtl);
        var uncrashedReruns = await Outcome.RestartedWithoutACrashAsync(cluster, signed, killedPids);
        await Outcome.AssertExactlyOnceAsync(cluster, signed, trials,
            $"points={string.Join(",", hits.Select(h => $"{h.Key}:{h.Value}"))} victimKilledHoldingBodies={heldAtKill} rerunWithoutCrash={uncrashedReruns.Count} seconds={total.Elapsed.TotalSeconds:0.0}");
        Assert.True(stuck.Count == 0, $"{stuck.Count} signatures stay Pending/Active: {string.Join("; ", stuck.Take(10))}");
        // The survivor runs 4 bodies at a time and holds the rest of what it read: those entries must be kept alive,
        // never taken over while their holder is alive (rule 18).
        Assert.True(uncrashedReruns.Count == 0,
            $"{uncrashedReruns.Count} bodies were started again after a start on a process that was never killed (rule 18: a run nobody crashed is executed once): {string.Join("; ", uncrashedReruns.Take(5))}");
        Assert.True(heldAtKill >= trials / 3, $"the trials did not exercise the crash points: the victim held started bodies in only {heldAtKill} of {trials} kills");
    }

    [Theory]
    [InlineData(RedisTopology.OneServer)]
    [InlineData(RedisTopology.Cluster)]
    [InlineData(RedisTopology.PartitionedCluster)]
    public async Task KilledWorker_LongBodyOutlivingTheActiveTtl_IsTakenOverAndNothingExpires(RedisTopology topology)
    {
        var total = Stopwatch.StartNew();
        // The take-over gap (visibility 1 s + reclaim interval 0.5 s) stays well under the active TTL (4 s), as rule 19's
        // "counts from the last activity" requires; the bodies (9 s) outlive it more than twice.
        var activeTtl = TimeSpan.FromSeconds(4);
        const int bodyMs = 9000;
        await using var cluster = await ReliabilityCluster.CreateAsync(output, topology: topology, producer: o => o.ActiveTtl = activeTtl);
        var work = new WorkerSettings { Tasks = [ReliabilityTasks.Work], VisibilityMs = 1000, MaxStalls = 1000, ActiveTtlMs = (int)activeTtl.TotalMilliseconds };
        await cluster.StartWorkerAsync("callbacks", work with { Tasks = [ReliabilityTasks.OnDone, ReliabilityTasks.OnFailed] });
        var victim = await cluster.StartWorkerAsync("victim", work);

        var signed = await cluster.SignAndRunManyAsync(Enumerable.Range(0, 4).Select(i => $"long{i}"), sleepMs: bodyMs, parallelism: 4);
        await cluster.WaitUntilAsync("the victim runs the 4 bodies", TimeSpan.FromSeconds(30),
            async () => (await cluster.MembersAsync("started")).Count(m => m.Contains($"|{victim.Pid}:", StringComparison.Ordinal)) == 4);
        var running = Stopwatch.StartNew();
        // The survivor starts now (the victim already holds every body), ready to take over.
        await cluster.StartWorkerAsync("survivor", work);
        var killAt = activeTtl + TimeSpan.FromMilliseconds(500);   // the crash point: past one active TTL into the bodies
        if (running.Elapsed < killAt) await Task.Delay(killAt - running.Elapsed);
        await victim.KillAsync();
        cluster.Log($"killed the victim (pid {victim.Pid}) {running.Elapsed.TotalSeconds:0.0} s into {bodyMs / 1000} s bodies (active TTL {activeTtl.TotalSeconds} s)");

        await Outcome.WaitForCallbacksAsync(cluster, signed, TimeSpan.FromSeconds(40));
        await Outcome.AssertExactlyOnceAsync(cluster, signed, trials: 1, $"activeTtl={activeTtl.TotalSeconds}s bodyMs={bodyMs} seconds={total.Elapsed.TotalSeconds:0.0}");
    }

    /// <summary>
    /// Signs a wave of <c>work</c> tasks and waits until the victim has started at least
    /// <paramref name="minimumOnVictim"/> of them. The survivor runs few bodies at once (Concurrency 4), so the victim
    /// gets most of a wave; if it still got too few within 5 s, another wave is signed (at most three). Returns a
    /// stopwatch started when the victim's starts were seen.
    /// </summary>
    private static async Task<Stopwatch> WaveAsync(ReliabilityCluster cluster, WorkerProcess victim, List<SignedTask> signed, int trial, int count, int sleepMs, int minimumOnVictim)
    {
        var mine = $"|{victim.Pid}:";
        var ids = new HashSet<string>();
        for (var wave = 0; wave < 3; wave++)
        {
            var waveIds = Enumerable.Range(0, count).Select(i => $"k{trial:00}-{wave}-{i:00}").ToList();
            ids.UnionWith(waveIds);
            signed.AddRange(await cluster.SignAndRunManyAsync(waveIds, sleepMs, parallelism: count));
            if (minimumOnVictim == 0) return Stopwatch.StartNew();
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(5))
            {
                var started = (await cluster.MembersAsync("started"))
                    .Count(m => m.Contains(mine, StringComparison.Ordinal) && ids.Contains(m[..m.IndexOf('|')]));
                if (started >= minimumOnVictim) return Stopwatch.StartNew();
                await Task.Delay(5);
            }
            cluster.Log($"trial {trial + 1}: the victim (pid {victim.Pid}) started fewer than {minimumOnVictim} bodies of wave {wave + 1} within 5 s");
        }
        return Stopwatch.StartNew();
    }
}
