using System.Diagnostics;
using System.Globalization;
using MageFlow.Benchmarks.Infrastructure;
using StackExchange.Redis;

namespace MageFlow.Benchmarks.Measurements;

/// <summary>
/// The latency floor of the same Redis and client: items are queued at a fixed rate; a consumer blocked in
/// XREADGROUP (its own connection, as MageFlow's worker) takes each, notes the time (standing for a task handler's
/// end), acknowledges it and queues a follow-up carrying that time (pipelined, as a completion would queue its
/// callback), and the same consumer's read of the follow-up (standing for the callback's start) gives one sample.
/// No state, no scripts, no start step: one write and one read delivery between the two moments, where MageFlow's
/// finish → callback start also runs a completion and a start transition.
/// </summary>
internal static class RedisFloorLatency
{
    private const int Database = 3;

    public static async Task<LatencyResult> RunAsync(string endpoint, RedisInfo info, double rate, TimeSpan duration, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var items = Math.Max(200, (int)(rate * duration.TotalSeconds));
        await info.FlushDatabaseAsync(Database).ConfigureAwait(false);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(endpoint).ConfigureAwait(false);
        await using var blocking = await ConnectionMultiplexer.ConnectAsync(endpoint).ConfigureAwait(false);
        var db = connection.GetDatabase(Database);
        var reader = blocking.GetDatabase(Database);
        RedisKey work = "floor-latency:work", done = "floor-latency:done";
        const string group = "g", consumer = "c";
        await db.StreamCreateConsumerGroupAsync(work, group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
        await db.StreamCreateConsumerGroupAsync(done, group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);

        var samples = new long[items];
        var received = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var consume = Task.Run(async () =>
        {
            object[] read = ["GROUP", group, consumer, "COUNT", RedisFloor.BatchSize, "BLOCK", 1000, "STREAMS", work, done, ">", ">"];
            while (received < items)
            {
                stop.Token.ThrowIfCancellationRequested();
                var reply = await reader.ExecuteAsync("XREADGROUP", read).ConfigureAwait(false);
                if (reply.IsNull) continue;
                // Per stream [key, entries]; a map of key → entries under RESP3.
                var map = reply.Resp3Type == ResultType.Map;
                for (var s = 0; s < reply.Length; s += map ? 2 : 1)
                {
                    var (key, entries) = map ? (reply[s], reply[s + 1]) : (reply[s][0], reply[s][1]);
                    var isWork = (string?)key == (string?)work;
                    for (var e = 0; e < entries.Length; e++)
                    {
                        var id = (RedisValue)entries[e][0];
                        var now = Stopwatch.GetTimestamp();
                        if (isWork)
                        {
                            // Not awaited: the consumer reads on while the follow-up is on its way, as runs go on in parallel.
                            _ = db.StreamAcknowledgeAsync(work, group, id, CommandFlags.FireAndForget);
                            _ = db.StreamAddAsync(done, "t", now.ToString(CultureInfo.InvariantCulture), flags: CommandFlags.FireAndForget);
                        }
                        else
                        {
                            var finishedAt = long.Parse((string)entries[e][1][1]!, CultureInfo.InvariantCulture);
                            samples[received++] = (long)Stopwatch.GetElapsedTime(finishedAt, now).TotalMicroseconds;
                            _ = db.StreamAcknowledgeAsync(done, group, id, CommandFlags.FireAndForget);
                        }
                    }
                }
            }
        }, stop.Token);

        var clock = Stopwatch.StartNew();
        var next = 0;
        var queued = new Task[items];
        while (next < items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var due = Math.Min(items, (int)(clock.Elapsed.TotalSeconds * rate) + 1);
            for (; next < due; next++) queued[next] = db.StreamAddAsync(work, "p", "{\"index\":" + next.ToString(CultureInfo.InvariantCulture) + "}");
            // ~1 ms steps, as the MageFlow latency measurement offers its load.
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
        var offeredSeconds = clock.Elapsed.TotalSeconds;
        await Task.WhenAll(queued).ConfigureAwait(false);
        try
        {
            await Concurrency.WithTimeout(consume, timeout, () => $"Redis floor latency: only {received} of {items} follow-ups read", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
        await info.FlushDatabaseAsync(Database).ConfigureAwait(false);

        return LatencyResult.Of(rate, items / offeredSeconds, samples);
    }
}
