using System.Text.Json;

namespace MageFlow.Runtime.Tests.Infrastructure;

/// <summary>What the test tasks received, in arrival order, with a bounded wait (no fixed sleeps).</summary>
internal sealed class Recorder
{
    public const string SentinelPrefix = "sentinel-";

    private readonly Lock _gate = new();
    private readonly List<Received> _received = [];

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public void Add(string task, object? message, TaskContext context)
    {
        lock (_gate) _received.Add(new Received(task, message, context.SignatureId, context.Attempt, context.Failure));
    }

    public IReadOnlyList<Received> All
    {
        get { lock (_gate) return _received.ToArray(); }
    }

    public IReadOnlyList<Received> Of(string task) => All.Where(r => r.Task == task).ToArray();

    public bool HasSeen(string task, string marker) => Of(task).Any(r => JsonSerializer.Serialize(r.Message).Contains(marker));

    /// <summary>Forgets the runs of drain sentinels so tests count only their own runs.</summary>
    public void RemoveSentinels()
    {
        lock (_gate) _received.RemoveAll(r => JsonSerializer.Serialize(r.Message).Contains(SentinelPrefix));
    }

    public async Task<IReadOnlyList<Received>> WaitForAsync(string task, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var found = Of(task);
            if (found.Count >= count) return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Waited for {count} run(s) of '{task}', saw {found.Count}. Everything received: {string.Join(", ", All.Select(r => r.Task))}");
            await Task.Delay(10);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(10);
        }
    }
}

internal sealed record Received(string Task, object? Message, string SignatureId, int Attempt, TaskFailure? Failure);
