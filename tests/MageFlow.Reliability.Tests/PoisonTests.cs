using System.Diagnostics;
using MageFlow.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MageFlow.Reliability.Tests;

/// <summary>
/// FAULT: a poison task that kills its worker process every time it runs (<c>Environment.FailFast</c>), and, as a
/// control, graceful stops (SIGTERM → host shutdown) of the worker running a body.
///
/// Contract §8 / semantics rule 20: a run taken over from a worker that stopped answering more than
/// <c>MaxStalls</c> times is failed at once — status <c>Failed</c>, its error callbacks fire exactly once, and
/// <c>TaskContext.Failure.Kind == TaskFailureKind.Stalled</c> — instead of taking down every worker until its TTL
/// ends. The fixture restarts the worker processes as they die (a supervisor per worker). A graceful stop hands the
/// run over without a stall, so two SIGTERMs with <c>MaxStalls = 1</c> must still end Done.
/// </summary>
public sealed class PoisonTests(ITestOutputHelper output)
{
    private const int MaxStalls = 2;

    [Theory]
    [InlineData(RedisTopology.OneServer)]
    [InlineData(RedisTopology.Cluster)]
    [InlineData(RedisTopology.PartitionedCluster)]
    public async Task PoisonTask_IsFailedAsStalled_AfterMaxStalls_AndErrorCallbacksRunOnce(RedisTopology topology)
    {
        var total = Stopwatch.StartNew();
        await using var cluster = await ReliabilityCluster.CreateAsync(output, topology: topology);
        var settings = new WorkerSettings { VisibilityMs = 1000, MaxStalls = MaxStalls };
        await cluster.StartWorkerAsync("callbacks", settings with { Tasks = [ReliabilityTasks.OnDone, ReliabilityTasks.OnFailed] });
        var first = cluster.Supervise("poisoned-a", settings with { Tasks = [ReliabilityTasks.Work, ReliabilityTasks.Poison] });
        var second = cluster.Supervise("poisoned-b", settings with { Tasks = [ReliabilityTasks.Work, ReliabilityTasks.Poison] });

        // The system is alive before the poison arrives.
        var canary = await cluster.SignAndRunWorkAsync("canary-1", sleepMs: 0);
        await Outcome.WaitForCallbacksAsync(cluster, [canary], TimeSpan.FromSeconds(30));

        var poison = await cluster.SignAndRunPoisonAsync("poison-1");
        cluster.Log($"poison signed: {poison.Task.Id}");
        await cluster.WaitUntilAsync("the poison task is Failed", TimeSpan.FromSeconds(40),
            async () => await cluster.StatusAsync(poison.Task) == SignatureStatus.Failed,
            async () => $"Its status is {await cluster.StatusAsync(poison.Task)}; it has killed {(await cluster.MembersAsync("poison-runs")).Length} worker processes (MaxStalls = {MaxStalls}); worker processes started: {first.Starts + second.Starts}.");
        await cluster.WaitUntilAsync("the poison task's error callback has run", TimeSpan.FromSeconds(30),
            async () => (await cluster.RunsPerKeyAsync("error-callbacks")).ContainsKey(poison.Id));

        // Alive afterwards, and the poison is not run again: a canary dispatched now completes...
        var canary2 = await cluster.SignAndRunWorkAsync("canary-2", sleepMs: 0);
        await Outcome.WaitForCallbacksAsync(cluster, [canary2], TimeSpan.FromSeconds(30));
        var poisonRuns = (await cluster.MembersAsync("poison-runs")).Length;
        // ...and so does one more after a full visibility timeout, with no further poison run in between.
        await Task.Delay(settings.VisibilityMs * 2);
        var canary3 = await cluster.SignAndRunWorkAsync("canary-3", sleepMs: 0);
        await Outcome.WaitForCallbacksAsync(cluster, [canary3], TimeSpan.FromSeconds(30));

        var errorRuns = (await cluster.RunsPerKeyAsync("error-callbacks")).GetValueOrDefault(poison.Id);
        var successRuns = (await cluster.RunsPerKeyAsync("callbacks")).GetValueOrDefault(poison.Id);
        var failure = (await cluster.HashAsync("failures")).GetValueOrDefault(poison.Id) ?? "<none>";
        var poisonRunsAfter = (await cluster.MembersAsync("poison-runs")).Length;
        cluster.Log(Figures.Line(1, 4, successRuns + errorRuns == 0 ? 1 : 0, Math.Max(0, errorRuns - 1),
            $"poisonRuns={poisonRunsAfter} maxStalls={MaxStalls} workerProcessesStarted={first.Starts + second.Starts} failure=\"{failure}\" seconds={total.Elapsed.TotalSeconds:0.0}"));

        Assert.Equal(SignatureStatus.Failed, await cluster.StatusAsync(poison.Task));
        Assert.True(errorRuns == 1, $"the poison task's error callback ran {errorRuns} times; expected exactly once");
        Assert.True(successRuns == 0, $"the poison task's success callback ran {successRuns} times; expected never");
        Assert.True(failure.StartsWith($"{TaskFailureKind.Stalled}|", StringComparison.Ordinal),
            $"TaskContext.Failure of the error callback should have Kind = Stalled; the callback recorded \"{failure}\"");
        Assert.True(poisonRunsAfter <= MaxStalls + 1,
            $"the poison body ran {poisonRunsAfter} times; with MaxStalls = {MaxStalls} it may run at most {MaxStalls + 1} times (the first delivery plus {MaxStalls} take-overs)");
        Assert.True(poisonRunsAfter == poisonRuns, $"the poison body ran again after the task was Failed ({poisonRuns} → {poisonRunsAfter} runs)");
        Assert.Equal(SignatureStatus.Done, await cluster.StatusAsync(canary3.Task));
    }

    [Theory]
    [InlineData(RedisTopology.OneServer)]
    [InlineData(RedisTopology.Cluster)]
    [InlineData(RedisTopology.PartitionedCluster)]
    public async Task GracefulStop_HandsTheRunOver_WithoutCountingAStall(RedisTopology topology)
    {
        var total = Stopwatch.StartNew();
        await using var cluster = await ReliabilityCluster.CreateAsync(output, topology: topology);
        // MaxStalls = 1: two take-overs counted as stalls would fail the task. The host's shutdown timeout (300 ms)
        // is shorter than the body, so each SIGTERM abandons the run for another worker.
        var settings = new WorkerSettings { VisibilityMs = 1000, MaxStalls = 1, ShutdownMs = 300 };
        await cluster.StartWorkerAsync("callbacks", settings with { Tasks = [ReliabilityTasks.OnDone, ReliabilityTasks.OnFailed] });
        var worker = await cluster.StartWorkerAsync("graceful#1", settings with { Tasks = [ReliabilityTasks.Work] });

        var canary = await cluster.SignAndRunWorkAsync("canary", sleepMs: 0);
        await Outcome.WaitForCallbacksAsync(cluster, [canary], TimeSpan.FromSeconds(30));

        var task = await cluster.SignAndRunWorkAsync("long", sleepMs: 2500);
        for (var stop = 1; stop <= 2; stop++)
        {
            var pid = worker.Pid;
            await cluster.WaitUntilAsync($"worker {worker.Name} runs the body", TimeSpan.FromSeconds(30),
                async () => (await cluster.MembersAsync("started")).Any(m => m.StartsWith($"long|{pid}:", StringComparison.Ordinal)));
            await worker.TerminateAsync(TimeSpan.FromSeconds(15));
            cluster.Log($"SIGTERM {stop}: {worker.Name} (pid {pid}) exited with code {worker.ExitCode}");
            worker = await cluster.StartWorkerAsync($"graceful#{stop + 1}", settings with { Tasks = [ReliabilityTasks.Work] });
        }

        await Outcome.WaitForCallbacksAsync(cluster, [task], TimeSpan.FromSeconds(30));
        var starts = (await cluster.RunsPerKeyAsync("started")).GetValueOrDefault("long");
        var failures = await cluster.HashAsync("failures");
        await Outcome.AssertExactlyOnceAsync(cluster, [canary, task], trials: 2,
            $"bodyStarts={starts} failure=\"{failures.GetValueOrDefault("long") ?? "<none>"}\" seconds={total.Elapsed.TotalSeconds:0.0}");
        Assert.True(starts >= 3, $"the body should have been started by three workers (two stopped gracefully mid-body); it started {starts} times");
    }
}
