using System.Globalization;
using MageFlow.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MageFlow.Reliability.Tests;

/// <summary>
/// Rule 25 across processes: <c>InterruptAsync</c> and <c>CancelAsync</c> called in this (producer) process cancel a
/// body running in a worker child process, through Redis. Each trial measures the time from the call to the
/// moment the body saw its token fire (both clocks are this machine's), then resumes the interrupted run with a
/// kwarg that makes it quick, and checks its success callback runs exactly once. Trials: a quarter of
/// <c>MAGEFLOW_FAULT_TRIALS</c> (at least 3).
/// </summary>
public sealed class InterruptTests(ITestOutputHelper output)
{
    private const int LongBodyMs = 120_000;

    [Theory]
    [InlineData(RedisTopology.OneServer)]
    [InlineData(RedisTopology.Cluster)]
    [InlineData(RedisTopology.PartitionedCluster)]
    public async Task Interrupt_and_cancel_stop_a_body_running_in_another_worker_process(RedisTopology topology)
    {
        var trials = Math.Max(3, Figures.FaultTrials / 4);
        await using var cluster = await ReliabilityCluster.CreateAsync(output, topology: topology);
        var settings = new WorkerSettings();
        await cluster.StartWorkerAsync("callbacks", settings with { Tasks = [ReliabilityTasks.OnDone, ReliabilityTasks.OnFailed] });
        await cluster.StartWorkerAsync("runner", settings with { Tasks = [ReliabilityTasks.Work] });
        var canary = await cluster.SignAndRunWorkAsync("canary", sleepMs: 0);
        await Outcome.WaitForCallbacksAsync(cluster, [canary], TimeSpan.FromSeconds(30));

        var interruptLatencies = new List<double>();
        var cancelLatencies = new List<double>();
        for (var trial = 0; trial < trials; trial++)
        {
            var interrupted = await cluster.SignAndRunWorkAsync($"interrupted-{trial}", LongBodyMs);
            var canceled = await cluster.SignAndRunWorkAsync($"canceled-{trial}", LongBodyMs);
            await WaitStartedAsync(cluster, interrupted.Id);
            await WaitStartedAsync(cluster, canceled.Id);

            interruptLatencies.Add(await StopAsync(cluster, interrupted, s => s.InterruptAsync()));
            cancelLatencies.Add(await StopAsync(cluster, canceled, s => s.CancelAsync()));

            await cluster.WaitUntilAsync($"{interrupted.Id} has its run parked", TimeSpan.FromSeconds(30),
                async () => (await interrupted.Task.GetInfoAsync()).ParkedRuns == 1);
            Assert.Equal(SignatureStatus.Interrupted, await cluster.StatusAsync(interrupted.Task));
            Assert.Equal(SignatureStatus.Canceled, await cluster.StatusAsync(canceled.Task));

            // Resumed with a kwarg that beats the message: the parked run runs again, quickly, and fires its callback.
            await interrupted.Task.Kwargs.UpdateAsync(new { sleepMs = 0 });
            await interrupted.Task.ResumeAsync();
            await Outcome.WaitForCallbacksAsync(cluster, [interrupted], TimeSpan.FromSeconds(30));
        }

        // Alive, and nothing more fired: a canary dispatched last completes, and the canceled bodies left no callback.
        var lastCanary = await cluster.SignAndRunWorkAsync("canary-last", sleepMs: 0);
        await Outcome.WaitForCallbacksAsync(cluster, [lastCanary], TimeSpan.FromSeconds(30));
        var callbacks = await cluster.RunsPerKeyAsync("callbacks");
        var errorCallbacks = await cluster.RunsPerKeyAsync("error-callbacks");
        var canceledWithCallbacks = Enumerable.Range(0, trials).Count(t => callbacks.ContainsKey($"canceled-{t}") || errorCallbacks.ContainsKey($"canceled-{t}"));
        var duplicated = Enumerable.Range(0, trials).Count(t => callbacks.GetValueOrDefault($"interrupted-{t}") > 1);
        cluster.Log(Figures.Line(trials, trials * 2, 0, duplicated,
            $"interruptMs(p50={Median(interruptLatencies):0.0},max={interruptLatencies.Max():0.0}) cancelMs(p50={Median(cancelLatencies):0.0},max={cancelLatencies.Max():0.0})"));

        Assert.Equal(0, canceledWithCallbacks);
        Assert.Equal(0, duplicated);
        Assert.DoesNotContain(errorCallbacks.Keys, k => k.StartsWith("interrupted-", StringComparison.Ordinal));
    }

    private static Task WaitStartedAsync(ReliabilityCluster cluster, string id) =>
        cluster.WaitUntilAsync($"{id} runs in the worker process", TimeSpan.FromSeconds(30),
            async () => (await cluster.MembersAsync("started")).Any(m => m.StartsWith(id + "|", StringComparison.Ordinal)));

    /// <summary>Calls <paramref name="stop"/> and returns how many milliseconds later the body saw its token fire.</summary>
    private static async Task<double> StopAsync(ReliabilityCluster cluster, SignedTask signed, Func<TaskSignature, Task> stop)
    {
        var calledAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await stop(signed.Task);
        string? record = null;
        await cluster.WaitUntilAsync($"the body of {signed.Id} sees its token fire", TimeSpan.FromSeconds(30), async () =>
        {
            record = (await cluster.MembersAsync("cancelled")).FirstOrDefault(m => m.StartsWith(signed.Id + "|", StringComparison.Ordinal));
            return record is not null;
        });
        // record: "{id}|{pid}:{unixMs}:{random}"
        var cancelledAt = long.Parse(record!.Split('|')[1].Split(':')[1], CultureInfo.InvariantCulture);
        return cancelledAt - calledAt;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
