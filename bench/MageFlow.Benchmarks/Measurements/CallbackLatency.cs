using System.Diagnostics;
using HdrHistogram;
using MageFlow.Benchmarks.Infrastructure;
using MageFlow.Benchmarks.Workload;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Benchmarks.Measurements;

internal sealed record LatencyResult(double OfferedRate, double AchievedRate, int Samples, double P50Ms, double P90Ms, double P99Ms, double MaxMs)
{
    /// <summary>Percentiles of <paramref name="microseconds"/> (negative ones counted as 0) through an HDR histogram of up to a minute.</summary>
    public static LatencyResult Of(double offeredRate, double achievedRate, IEnumerable<long> microseconds)
    {
        var histogram = new LongHistogram(60_000_000L, 3);
        var samples = 0;
        foreach (var micros in microseconds)
        {
            histogram.RecordValue(Math.Max(0, micros));
            samples++;
        }
        static double Ms(long micros) => micros / 1000.0;
        return new LatencyResult(offeredRate, achievedRate, samples,
            Ms(histogram.GetValueAtPercentile(50)), Ms(histogram.GetValueAtPercentile(90)),
            Ms(histogram.GetValueAtPercentile(99)), Ms(histogram.GetMaxValue()));
    }
}

/// <summary>
/// Finish → callback start at a fixed offered load: a worker is running, pre-signed pairs are dispatched at
/// <c>rate</c> per second, and each pair contributes (callback handler start − task handler end).
/// </summary>
internal static class CallbackLatency
{
    public static async Task<LatencyResult> RunAsync(
        MageBackendChoice backend,
        BenchWorkload workload,
        double rate,
        TimeSpan duration,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var tasks = Math.Max(200, (int)(rate * duration.TotalSeconds));
        await backend.ResetAsync().ConfigureAwait(false);
        var probe = new RunProbe(tasks);
        RunProbe.Activate(probe);
        var producer = await MageHost.StartAsync(backend, workload, withWorker: false).ConfigureAwait(false);
        var worker = await MageHost.StartAsync(backend, workload, withWorker: true).ConfigureAwait(false);
        try
        {
            var mage = producer.Services.GetRequiredService<IMageFlow>();
            var works = await MageFlowEndToEnd.SignPairsAsync(workload, mage, tasks, timeout, cancellationToken).ConfigureAwait(false);

            var dispatches = new Task[tasks];
            var clock = Stopwatch.StartNew();
            var next = 0;
            while (next < tasks)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var due = Math.Min(tasks, (int)(clock.Elapsed.TotalSeconds * rate) + 1);
                for (; next < due; next++) dispatches[next] = workload.RunAsync(works[next], next);
                // ~1 ms steps: the offered load stays smooth at these rates without a busy loop stealing a core.
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }
            var offeredSeconds = clock.Elapsed.TotalSeconds;
            await Task.WhenAll(dispatches).ConfigureAwait(false);
            await Concurrency.WithTimeout(probe.AllCallbacksDone, timeout,
                () => $"Latency ({backend.Name}): only {probe.CallbacksDone} of {tasks} callbacks finished", cancellationToken).ConfigureAwait(false);

            return LatencyResult.Of(rate, tasks / offeredSeconds, probe.FinishToCallbackMicroseconds());
        }
        finally
        {
            await MageHost.StopAsync(worker).ConfigureAwait(false);
            await MageHost.StopAsync(producer).ConfigureAwait(false);
        }
    }
}
