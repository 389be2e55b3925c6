using System.Diagnostics;
using System.Globalization;
using MageFlow.Reliability.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace MageFlow.Reliability.Tests;

/// <summary>
/// FAULT: none injected — sustained load. N <c>work</c> tasks, each with a success and an error callback, through two
/// worker processes serving every task. Expected: 0 lost and 0 duplicated success callbacks, no error callback, and
/// after the done-TTL Redis is back to its baseline: the same number of keys under the prefix, empty streams with no
/// pending entries, and <c>used_memory</c> (less the test's own recording keys) close to where it started
/// (semantics rules 6, 8, 14: finished signatures and released callbacks expire after the done-TTL).
/// N = <c>MAGEFLOW_SOAK_TASKS</c> (default 3,000; the issue asks for 100,000 when set).
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    private static readonly string[] Queues = [ReliabilityTasks.Work, ReliabilityTasks.OnDone, ReliabilityTasks.OnFailed, ReliabilityTasks.Poison];

    [Fact]
    public async Task Soak_NothingLostOrDuplicated_AndRedisBackToBaselineAfterTheDoneTtl()
    {
        var total = Stopwatch.StartNew();
        var tasks = Figures.SoakTasks;
        var doneTtl = TimeSpan.FromSeconds(3);
        await using var cluster = await ReliabilityCluster.CreateAsync(output);
        var settings = new WorkerSettings { VisibilityMs = 5000, DoneTtlMs = (int)doneTtl.TotalMilliseconds };
        await Task.WhenAll(cluster.StartWorkerAsync("soak-a", settings), cluster.StartWorkerAsync("soak-b", settings));

        var baseline = await SnapshotAsync(cluster);
        cluster.Log($"baseline: {baseline}");

        // used_memory is sampled in the background for the peak figure (signing included).
        var peak = baseline.Memory;
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                try { peak = Math.Max(peak, await UsedMemoryAsync(cluster)); }
                catch (RedisException) { }
                try { await Task.Delay(200, stopSampling.Token); }
                catch (OperationCanceledException) { }
            }
        });

        var signing = Stopwatch.StartNew();
        var ids = Enumerable.Range(0, tasks).Select(i => $"s{i:000000}").ToList();
        var signed = await cluster.SignAndRunManyAsync(ids, sleepMs: 0, parallelism: 64);
        cluster.Log($"signed and dispatched {signed.Count} tasks in {signing.Elapsed.TotalSeconds:0.0} s");

        await cluster.WaitUntilAsync($"all {tasks} success callbacks have run", TimeSpan.FromSeconds(60 + tasks / 100),
            async () => await cluster.CountAsync("callback-parents") >= tasks,
            async () => $"{await cluster.CountAsync("callback-parents")} of {tasks} ran.");
        await stopSampling.CancelAsync();
        await sampler;
        cluster.Log($"all callbacks ran {total.Elapsed.TotalSeconds:0.0} s after the start ({tasks / Math.Max(0.001, signing.Elapsed.TotalSeconds):0} tasks/s incl. signing)");

        Snapshot now = baseline;
        await cluster.WaitUntilAsync("the keys and streams under the prefix are back to the baseline", doneTtl + TimeSpan.FromSeconds(30),
            async () =>
            {
                now = await SnapshotAsync(cluster);
                return now.Keys == baseline.Keys && now.StreamEntries == baseline.StreamEntries && now.Pending == baseline.Pending;
            },
            () => Task.FromResult($"baseline {baseline}; now {now}."));

        var callbackRuns = await cluster.RunsPerKeyAsync("callbacks");
        var errorRuns = await cluster.CountAsync("error-callbacks");
        var startedTwice = (await cluster.RunsPerKeyAsync("started")).Count(pair => pair.Value > 1);
        var lost = ids.Count(id => !callbackRuns.ContainsKey(id));
        var duplicated = ids.Count(id => callbackRuns.GetValueOrDefault(id) > 1);
        cluster.Log(Figures.Line(1, tasks, lost, duplicated, $"errorCallbacks={errorRuns} bodiesStartedMoreThanOnce={startedTwice} keys={baseline.Keys}->{now.Keys} seconds={total.Elapsed.TotalSeconds:0.0}"));
        Assert.True(lost == 0, $"{lost} of {tasks} success callbacks never ran (lost)");
        Assert.True(duplicated == 0, $"{duplicated} success callbacks ran more than once");
        Assert.True(errorRuns == 0, $"{errorRuns} error callbacks ran, but every task succeeded");
        Assert.True(startedTwice == 0, $"{startedTwice} bodies were started more than once though nothing crashed (rule 18)");

        // Memory, loosely: keys and stream entries are freed at once, but Redis shrinks its emptied hash tables
        // (keyspace and expires dicts, ~16 B per key per dict) in its cron, so allow a fixed slack plus 48 B per
        // task and give it a bounded time to settle. A leaked signature hash per task (~200 B) would exceed it.
        var allowed = 768L * 1024 + 48L * tasks;
        await cluster.WaitUntilAsync("used_memory (less the recording keys) is back near the baseline", TimeSpan.FromSeconds(20),
            async () => (now = await SnapshotAsync(cluster)).NetMemory - baseline.NetMemory <= allowed,
            () => Task.FromResult($"baseline {baseline}; now {now}; allowed +{allowed} B."));

        var grown = now.NetMemory - baseline.NetMemory;
        cluster.Log($"MEMORY usedMemory={baseline.Memory}->{peak}(peak, with recording)->{now.Memory} " +
            $"netOfRecording={baseline.NetMemory}->{now.NetMemory} (+{grown} B, allowed {allowed} B)");

    }

    private sealed record Snapshot(long Keys, long StreamEntries, long Pending, long Memory, long NetMemory)
    {
        public override string ToString() => $"keys={Keys} streamEntries={StreamEntries} pending={Pending} usedMemory={Memory} netOfRecording={NetMemory}";
    }

    private static async Task<Snapshot> SnapshotAsync(ReliabilityCluster cluster)
    {
        var keys = await cluster.KeyCountAsync();
        long entries = 0, pending = 0;
        foreach (var queue in Queues)
        {
            var key = $"{{{cluster.Prefix}}}:q:{queue}";
            if (!await cluster.Db.KeyExistsAsync(key)) continue;
            entries += await cluster.Db.StreamLengthAsync(key);
            foreach (var group in await cluster.Db.StreamGroupInfoAsync(key)) pending += group.PendingMessageCount;
        }
        var memory = await UsedMemoryAsync(cluster);
        long recording = 0;
        await foreach (var key in cluster.Server.KeysAsync(pattern: $"rec:{cluster.Prefix}:*"))
            recording += (long)await cluster.Db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", 0);
        return new Snapshot(keys, entries, pending, memory, memory - recording);
    }

    private static async Task<long> UsedMemoryAsync(ReliabilityCluster cluster)
    {
        var info = await cluster.Server.InfoAsync("memory");
        var value = info.SelectMany(g => g).First(p => p.Key == "used_memory").Value;
        return long.Parse(value, CultureInfo.InvariantCulture);
    }
}
