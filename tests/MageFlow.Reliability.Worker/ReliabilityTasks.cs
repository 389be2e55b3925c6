using StackExchange.Redis;

namespace MageFlow.Reliability;

/// <summary>Input of <c>work</c>: the body sleeps <see cref="SleepMs"/> then returns its id.</summary>
public sealed record WorkMessage(string Id, int SleepMs);

/// <summary>Result of <c>work</c>.</summary>
public sealed record WorkResult(string Id);

/// <summary>Input of the <c>on-done</c> success callback: the parent's result plus the bound parent id.</summary>
public sealed record DoneMessage([property: ReturnValue] WorkResult? Result, string Parent);

/// <summary>Input of the <c>on-failed</c> error callback: the failed task's input plus the bound parent id.</summary>
public sealed record FailedMessage(string? Id, string Parent);

/// <summary>Input of the <c>on-swarm-done</c> success callback: the results of a swarm's items plus the bound swarm name.</summary>
public sealed record SwarmDoneMessage([property: ReturnValue] List<WorkResult>? Results, string Swarm);

/// <summary>Input of <c>poison</c>: kills its process every time.</summary>
public sealed record PoisonMessage(string Id);

/// <summary>
/// The tasks the reliability worker serves, described by hand (no source generator). The same descriptors are
/// registered by the test's producer so it signs by name without depending on definitions stored in Redis.
/// </summary>
public static class ReliabilityTasks
{
    public const string Work = "work";
    public const string OnDone = "on-done";
    public const string OnFailed = "on-failed";
    public const string Poison = "poison";
    public const string OnSwarmDone = "on-swarm-done";

    public static IReadOnlyList<TaskDescriptor> All(Recorder? recorder) =>
    [
        TaskDescriptor.Create<WorkMessage, WorkResult>(Work, async (message, _, ct) =>
        {
            var run = Recorder.NewRunId();
            if (recorder is not null) await recorder.AddAsync("started", $"{message.Id}|{run}", ct);
            if (message.SleepMs > 0)
            {
                try
                {
                    await Task.Delay(message.SleepMs, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    // When the body saw its token fire (interrupt, cancel or shutdown): the run id carries the time.
                    if (recorder is not null) await recorder.AddAsync("cancelled", $"{message.Id}|{Recorder.NewRunId()}", CancellationToken.None);
                    throw;
                }
            }
            if (recorder is not null)
            {
                await recorder.AddAsync("bodies", $"{message.Id}|{run}", ct);
                // When the body ended: with the start in the run id, the interval it ran (SwarmTests' sweep).
                await recorder.AddAsync("ended", $"{message.Id}|{run}|{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}", ct);
            }
            return new WorkResult(message.Id);
        }),

        TaskDescriptor.Create<DoneMessage>(OnDone, async (message, _, ct) =>
        {
            if (recorder is null) return;
            await recorder.AddAsync("callbacks", $"{message.Parent}|{Recorder.NewRunId()}", ct);
            await recorder.AddAsync("callback-parents", message.Parent, ct);
            if (message.Result?.Id != message.Parent)
                await recorder.SetAsync("callback-mismatch", message.Parent, message.Result?.Id ?? "<null>", ct);
        }, new TaskOptions { ReturnField = "result" }),

        TaskDescriptor.Create<FailedMessage>(OnFailed, async (message, context, ct) =>
        {
            if (recorder is null) return;
            await recorder.AddAsync("error-callbacks", $"{message.Parent}|{Recorder.NewRunId()}", ct);
            var failure = context.Failure;
            await recorder.SetAsync("failures", message.Parent,
                failure is null ? "<no failure>" : $"{failure.Kind}|{failure.Error}", ct);
        }),

        TaskDescriptor.Create<SwarmDoneMessage>(OnSwarmDone, async (message, _, ct) =>
        {
            if (recorder is null) return;
            // Results first: a test that sees this run recorded reads them next.
            await recorder.SetAsync("swarm-results", message.Swarm, string.Join(',', (message.Results ?? []).Select(r => r.Id).Order(StringComparer.Ordinal)), ct);
            await recorder.AddAsync("swarm-callbacks", $"{message.Swarm}|{Recorder.NewRunId()}", ct);
        }, new TaskOptions { ReturnField = "results" }),

        TaskDescriptor.Create<PoisonMessage>(Poison, async (message, _, ct) =>
        {
            if (recorder is not null) await recorder.AddAsync("poison-runs", $"{message.Id}|{Recorder.NewRunId()}", ct);
            Environment.FailFast("poison");
        }),
    ];
}

/// <summary>
/// Records what ran, in keys <c>rec:{prefix}:{what}</c> outside MageFlow's own key prefix. Every write is idempotent
/// (a set member carries a fresh run id), so a write retried after a dropped connection never counts twice.
/// </summary>
public sealed class Recorder(Func<Task<ConnectionMultiplexer>> connect, string prefix)
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(connect);

    /// <summary>
    /// A fresh run id, <c>pid:unixMs:random</c>, so a test can tell which process ran a body, and in which order.
    /// </summary>
    public static string NewRunId() => $"{Environment.ProcessId}:{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}:{Guid.NewGuid().ToString("N")[..8]}";

    public static string Key(string prefix, string what) => $"rec:{prefix}:{what}";

    public Task AddAsync(string what, string member, CancellationToken ct) =>
        WithRetryAsync(db => db.SetAddAsync(Key(prefix, what), member), ct);

    public Task SetAsync(string what, string field, string value, CancellationToken ct) =>
        WithRetryAsync(db => db.HashSetAsync(Key(prefix, what), field, value), ct);

    private async Task WithRetryAsync(Func<IDatabase, Task> write, CancellationToken ct)
    {
        // Redis may be restarting or our connection killed: a record must not be lost, so retry until it lands.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                await write((await _connection.Value).GetDatabase());
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
            }
        }
    }
}
