using MageFlow.Backends;
using MageFlow.Backends.Redis;
using MageFlow.Benchmarks.Infrastructure;
using MageFlow.Benchmarks.Workload;
using MageFlow.Signatures;
using Microsoft.Extensions.Logging.Abstractions;

namespace MageFlow.Benchmarks.Measurements;

/// <summary>
/// Where redis-server's time goes inside the transition scripts: N tasks with one callback each are created,
/// started and completed straight through the Redis backend (no worker host), each phase's operations issued
/// together so they coalesce into batches as a worker's do, and the <c>INFO commandstats</c> delta of each phase
/// split into time inside scripts and time in the commands they ran. Lua's own share is the difference.
/// </summary>
internal static class ScriptCost
{
    /// <param name="Operations">Transitions in the phase (create: two signatures per task).</param>
    /// <param name="ScriptMicroseconds">Server µs inside scripts per operation, their commands included.</param>
    /// <param name="CommandMicroseconds">Server µs in the commands those scripts ran, per operation.</param>
    public sealed record Phase(string Name, int Operations, long ScriptCalls, double ScriptMicroseconds, double CommandMicroseconds);

    public static async Task<IReadOnlyList<Phase>> MeasureAsync(RedisChoice redis, RedisInfo info, int tasks, CancellationToken cancellationToken)
    {
        await redis.ResetAsync().ConfigureAwait(false);
        await using var backend = new RedisBackend(
            new RedisBackendOptions { Configuration = redis.Endpoint, KeyPrefix = "mfcost", Database = RedisChoice.Database },
            NullLogger<RedisBackend>.Instance);
        await backend.PrepareQueuesAsync(["cost-task"], cancellationToken).ConfigureAwait(false);
        var lifetimes = new SignatureLifetimes(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5));
        var phases = new List<Phase>();

        var ids = new string[tasks];
        phases.Add(await PhaseAsync("create (per signature)", 2 * tasks, () => Task.WhenAll(Enumerable.Range(0, tasks).Select(async i =>
        {
            var callback = Record("cost-callback", []);
            // As MageFlowClient signs it: the callback's task recorded with its id.
            var task = Record("cost-task", [callback.Id]) with { CallbackTasks = new Dictionary<string, string> { [callback.Id] = callback.TaskName } };
            await Task.WhenAll(backend.CreateSignatureAsync(callback, lifetimes.Active, cancellationToken), backend.CreateSignatureAsync(task, lifetimes.Active, cancellationToken)).ConfigureAwait(false);
            ids[i] = task.Id;
        }))).ConfigureAwait(false));

        foreach (var id in ids) await backend.DispatchAsync("cost-task", new Envelope(id, EnvelopeKind.Message, "{}"u8.ToArray()), cancellationToken).ConfigureAwait(false);
        var deliveries = new List<Delivery>(tasks);
        while (deliveries.Count < tasks)
            deliveries.AddRange((await backend.ReadAsync(["cost-task"], "cost", 500, TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false)).OfType<Delivery>());

        phases.Add(await PhaseAsync("start", tasks, () => Task.WhenAll(deliveries.Select(d => backend.StartAsync(d, lifetimes.Active, cancellationToken)))).ConfigureAwait(false));
        var result = "{\"orderId\":\"o-1\",\"charged\":1}"u8.ToArray();
        phases.Add(await PhaseAsync("complete (one callback queued)", tasks, () => Task.WhenAll(deliveries.Select(d => backend.CompleteAsync(d, result, lifetimes, cancellationToken)))).ConfigureAwait(false));
        await redis.ResetAsync().ConfigureAwait(false);
        return phases;

        async Task<Phase> PhaseAsync(string name, int operations, Func<Task> work)
        {
            var before = await info.SnapshotAsync().ConfigureAwait(false);
            Callgrind("-z");
            await work().ConfigureAwait(false);
            Callgrind("-d");
            var after = await info.SnapshotAsync().ConfigureAwait(false);
            long scriptCalls = 0, scriptUs = 0, commandUs = 0;
            foreach (var (command, count) in after.PerCommand)
            {
                var was = before.PerCommand.GetValueOrDefault(command);
                var (calls, us) = (count.Calls - was.Calls, count.Microseconds - was.Microseconds);
                if (command is "evalsha" or "eval" or "fcall") (scriptCalls, scriptUs) = (scriptCalls + calls, scriptUs + us);
                else if (command != "info") commandUs += us; // the snapshots' own INFO calls stay out
            }
            return new Phase(name, operations, scriptCalls, (double)scriptUs / operations, (double)commandUs / operations);
        }
    }

    /// <summary>
    /// Under <c>bench/script-instructions.sh</c> (redis-server run by callgrind, its pid in
    /// MAGEFLOW_BENCH_CALLGRIND_PID): zeroes the counts before a phase and dumps them after, so each phase is counted alone.
    /// </summary>
    private static void Callgrind(string action)
    {
        if (Environment.GetEnvironmentVariable("MAGEFLOW_BENCH_CALLGRIND_PID") is not { } pid) return;
        using var process = System.Diagnostics.Process.Start("callgrind_control", [action, pid])!;
        process.WaitForExit();
    }

    private static SignatureRecord Record(string task, string[] successCallbacks) =>
        new(SignatureRecord.NewId(), task, "Bench.Message", [new("k", "1"u8.ToArray())], successCallbacks, [],
            SignatureStatus.Pending, SignatureStatus.Pending, "mageflow_results", DateTimeOffset.UtcNow, 0);
}
