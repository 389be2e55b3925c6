using System.Diagnostics;
using MageFlow.Backends;
using MageFlow.Benchmarks.Infrastructure;
using MageFlow.Benchmarks.Workload;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Benchmarks.Measurements;

/// <summary>One repetition of the end-to-end run.</summary>
internal sealed record EndToEndSample(
    int Tasks,
    double SignSeconds,
    double DispatchSeconds,
    double WorkerStartSeconds,
    double TotalSeconds,
    long AllocatedBytesDuringRun,
    long AllocatedBytesDuringDispatch,
    long AllocatedBytesDuringSign,
    int DuplicateCallbacks,
    double ProcessCpuSecondsDuringRun,
    RuntimeActivity Runtime,
    CommandDelta? SignCommands,
    CommandDelta? RunCommands)
{
    /// <summary>Task + callback pairs per second, from the first dispatch to the last callback finished.</summary>
    public double TasksPerSecond => Tasks / TotalSeconds;

    public double SignaturesPerSecond => 2 * Tasks / SignSeconds;

    /// <summary>Pairs per second from the first signature created to the last callback: what Hangfire's Enqueue + ContinueJobWith covers.</summary>
    public double TasksPerSecondIncludingSigning => Tasks / (SignSeconds + TotalSeconds);
}

/// <summary>
/// N signatures of a task, each with one success callback, signed first (untimed for the rate), then dispatched
/// up front; then one worker host starts and the clock stops when the last callback has finished.
/// </summary>
internal static class MageFlowEndToEnd
{
    /// <summary>Concurrent requests the producer keeps open; enough to fill the pipeline, few enough to stay bounded.</summary>
    public const int ProducerLanes = 64;

    public static async Task<EndToEndSample> RunAsync(
        MageBackendChoice backend,
        BenchWorkload workload,
        int tasks,
        RedisInfo? info,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        Func<IMageBackend, bool, IMageBackend>? wrapBackend = null,
        Action<MageWorkerOptions>? configureWorker = null,
        Profiling.AllocationSampler? sampler = null)
    {
        await backend.ResetAsync().ConfigureAwait(false);
        var probe = new RunProbe(tasks);
        RunProbe.Activate(probe);
        var producer = await MageHost.StartAsync(backend, workload, withWorker: false, wrapBackend).ConfigureAwait(false);
        try
        {
            var mage = producer.Services.GetRequiredService<IMageFlow>();
            var beforeSign = info is null ? null : await info.SnapshotAsync().ConfigureAwait(false);
            var signAllocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            var works = await SignPairsAsync(workload, mage, tasks, timeout, cancellationToken).ConfigureAwait(false);
            var signSeconds = clock.Elapsed.TotalSeconds;
            signAllocated = GC.GetTotalAllocatedBytes(precise: true) - signAllocated;
            var beforeRun = info is null ? null : await info.SnapshotAsync().ConfigureAwait(false);

            sampler?.Start();
            var runAllocated = GC.GetTotalAllocatedBytes(precise: true);
            var runCpuAtStart = Environment.CpuUsage.TotalTime;
            var runtimeAtStart = RuntimeActivity.Now();
            clock.Restart();
            await Concurrency.WithTimeout(
                Concurrency.ForEachAsync(tasks, ProducerLanes, i => workload.RunAsync(works[i], i), cancellationToken),
                timeout, () => $"MageFlow ({backend.Name}): dispatching {tasks} runs did not finish", cancellationToken).ConfigureAwait(false);
            var dispatchSeconds = clock.Elapsed.TotalSeconds;
            var dispatchAllocated = GC.GetTotalAllocatedBytes(precise: true) - runAllocated;

            var worker = await MageHost.StartAsync(backend, workload, withWorker: true, wrapBackend, configureWorker).ConfigureAwait(false);
            var workerStartSeconds = clock.Elapsed.TotalSeconds - dispatchSeconds;
            double totalSeconds;
            TimeSpan runCpu;
            RuntimeActivity runtime;
            try
            {
                await Concurrency.WithTimeout(probe.AllCallbacksDone, timeout,
                    () => $"MageFlow ({backend.Name}): only {probe.CallbacksDone} of {tasks} callbacks finished", cancellationToken).ConfigureAwait(false);
                totalSeconds = clock.Elapsed.TotalSeconds;
                runAllocated = GC.GetTotalAllocatedBytes(precise: true) - runAllocated;
                sampler?.Stop();
                runCpu = Environment.CpuUsage.TotalTime - runCpuAtStart;
                runtime = RuntimeActivity.Now().Since(runtimeAtStart);
            }
            finally
            {
                // Stopping waits for the runs in flight, so the last completion scripts are in the counters below.
                await MageHost.StopAsync(worker).ConfigureAwait(false);
            }
            var afterRun = info is null ? null : await info.SnapshotAsync().ConfigureAwait(false);
            return new EndToEndSample(
                tasks, signSeconds, dispatchSeconds, workerStartSeconds, totalSeconds, runAllocated, dispatchAllocated, signAllocated, probe.DuplicateCallbacks, runCpu.TotalSeconds, runtime,
                beforeRun?.Since(beforeSign!), afterRun?.Since(beforeRun!));
        }
        finally
        {
            await MageHost.StopAsync(producer).ConfigureAwait(false);
        }
    }

    /// <summary>Signs <paramref name="tasks"/> callbacks, then a work signature for each, returning the work signatures.</summary>
    public static async Task<TaskSignature[]> SignPairsAsync(BenchWorkload workload, IMageFlow mage, int tasks, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var callbacks = new TaskSignature[tasks];
        var works = new TaskSignature[tasks];
        await Concurrency.WithTimeout(
            Concurrency.ForEachAsync(tasks, ProducerLanes, async i =>
            {
                callbacks[i] = await workload.SignCallbackAsync(mage, i).ConfigureAwait(false);
                works[i] = await workload.SignWorkAsync(mage, callbacks[i]).ConfigureAwait(false);
            }, cancellationToken),
            timeout, () => $"MageFlow: signing {tasks} task + callback pairs did not finish", cancellationToken).ConfigureAwait(false);
        return works;
    }
}

/// <summary>Runtime counters over an interval: garbage collections, GC pauses, thread-pool work items, lock contention.</summary>
internal sealed record RuntimeActivity(int Gen0, int Gen1, int Gen2, double GcPauseMilliseconds, long ThreadPoolWorkItems, long LockContentions)
{
    public static RuntimeActivity Now() => new(
        GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration().TotalMilliseconds,
        ThreadPool.CompletedWorkItemCount, Monitor.LockContentionCount);

    public RuntimeActivity Since(RuntimeActivity before) => new(
        Gen0 - before.Gen0, Gen1 - before.Gen1, Gen2 - before.Gen2, GcPauseMilliseconds - before.GcPauseMilliseconds,
        ThreadPoolWorkItems - before.ThreadPoolWorkItems, LockContentions - before.LockContentions);
}
