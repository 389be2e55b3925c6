using System.Diagnostics;
using Hangfire;
using Hangfire.Redis.StackExchange;
using MageFlow.Benchmarks.Infrastructure;
using StackExchange.Redis;

namespace MageFlow.Benchmarks.Measurements;

/// <summary>
/// Hangfire 1.8 on Hangfire.Redis.StackExchange, on the same Redis (its own database): N jobs each with one
/// ContinueJobWith continuation, enqueued up front, then one BackgroundJobServer with default options runs them;
/// the clock stops when the last continuation ran.
/// </summary>
internal static class HangfireBaseline
{
    public const int Database = 1;

    /// <summary>Pairs per second end to end, and how long enqueueing alone took.</summary>
    public static async Task<(double PairsPerSecond, double EnqueueSeconds)> RunAsync(string endpoint, RedisInfo info, int jobs, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await info.FlushDatabaseAsync(Database).ConfigureAwait(false);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(endpoint).ConfigureAwait(false);
        var storage = new RedisStorage(connection, new RedisStorageOptions { Db = Database, Prefix = "hf:" });
        var client = new BackgroundJobClient(storage);
        HangfireJobs.Start(jobs);

        // Enqueueing is synchronous in Hangfire; a few threads keep it from being the bottleneck. Eight thread-pool
        // threads blocked in synchronous Redis calls can starve the pool that completes those very calls on a 2-core
        // machine (StackExchange.Redis then reports "Timeout performing EXEC"): give the pool room while they block.
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, 32), minIo);
        var clock = Stopwatch.StartNew();
        try
        {
            await Concurrency.WithTimeout(Task.Run(() => Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, i =>
            {
                var parent = client.Enqueue(() => HangfireJobs.Work(i));
                client.ContinueJobWith(parent, () => HangfireJobs.Continuation(i));
            }), cancellationToken), timeout, () => $"Hangfire: enqueueing {jobs} job + continuation pairs did not finish", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }

        var enqueueSeconds = clock.Elapsed.TotalSeconds;
        var server = new BackgroundJobServer(new BackgroundJobServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5) }, storage);
        try
        {
            await Concurrency.WithTimeout(HangfireJobs.AllDone, timeout,
                () => $"Hangfire: only {HangfireJobs.Finished} of {jobs} continuations ran", cancellationToken).ConfigureAwait(false);
            return (jobs / clock.Elapsed.TotalSeconds, enqueueSeconds);
        }
        finally
        {
            server.SendStop();
            // Hangfire's dispose waits for its background processes; bounded so a stuck server cannot hang the run.
            await Task.Run(server.Dispose).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None).ConfigureAwait(false);
            await info.FlushDatabaseAsync(Database).ConfigureAwait(false);
        }
    }
}

/// <summary>The Hangfire job methods (public static: Hangfire stores them as method references).</summary>
public static class HangfireJobs
{
    private static int _expected;
    private static int _finished;
    private static TaskCompletionSource _allDone = new();

    internal static Task AllDone => _allDone.Task;

    internal static int Finished => Volatile.Read(ref _finished);

    internal static void Start(int expected)
    {
        _expected = expected;
        _finished = 0;
        _allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static long Work(int index) => index * 31L;

    public static void Continuation(int index)
    {
        if (Interlocked.Increment(ref _finished) == _expected) _allDone.TrySetResult();
    }
}
