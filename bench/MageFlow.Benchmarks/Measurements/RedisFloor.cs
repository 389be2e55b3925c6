using System.Diagnostics;
using MageFlow.Benchmarks.Infrastructure;
using StackExchange.Redis;

namespace MageFlow.Benchmarks.Measurements;

/// <summary>
/// The cheapest queue the same Redis can be: per item XADD (dispatch) → XREADGROUP (batches of
/// <see cref="BatchSize"/>, both streams in one read, like the worker) → XACK + one follow-up XADD standing for
/// the callback → XREADGROUP → XACK. The acknowledgements and follow-ups of a batch are pipelined together.
/// No signature storage, no scripts, no JSON: what MageFlow adds is the distance to this.
/// </summary>
internal static class RedisFloor
{
    public const string Description =
        "bare StackExchange.Redis: XADD (64 in flight) → XREADGROUP COUNT 64 over both streams → per item XACK + follow-up XADD, pipelined per batch → XREADGROUP → XACK";

    /// <summary>The worker's default read batch (MageWorkerOptions.BatchSize).</summary>
    public static readonly int BatchSize = new MageWorkerOptions().BatchSize;

    private const int Database = 2;

    /// <summary>Items per second end to end, managed bytes allocated per item (the bare client's own cost), and redis-server CPU µs per item.</summary>
    public static async Task<(double ItemsPerSecond, double AllocatedBytesPerItem, double ServerCpuMicrosecondsPerItem, double ClientCpuMicrosecondsPerItem)> RunAsync(string endpoint, RedisInfo info, int items, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await info.FlushDatabaseAsync(Database).ConfigureAwait(false);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(endpoint).ConfigureAwait(false);
        var db = connection.GetDatabase(Database);
        RedisKey work = "floor:work", done = "floor:done";
        const string group = "g", consumer = "c";
        await db.StreamCreateConsumerGroupAsync(work, group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
        await db.StreamCreateConsumerGroupAsync(done, group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);

        // Entries the size of a MageFlow envelope: a 16-character signature id and a small JSON payload.
        var entries = new NameValueEntry[items][];
        for (var i = 0; i < items; i++)
            entries[i] = [new("s", Convert.ToBase64String(BitConverter.GetBytes((long)i * 7919 + 1)) + "abcd"), new("p", $"{{\"index\":{i}}}")];

        var before = await info.SnapshotAsync().ConfigureAwait(false);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clientCpu = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        await Concurrency.WithTimeout(
            Concurrency.ForEachAsync(items, 64, i => db.StreamAddAsync(work, entries[i]), cancellationToken),
            timeout, () => $"Redis floor: {items} XADDs did not finish", cancellationToken).ConfigureAwait(false);

        var finished = 0;
        var consume = Task.Run(async () =>
        {
            var positions = new[] { new StreamPosition(work, StreamPosition.NewMessages), new StreamPosition(done, StreamPosition.NewMessages) };
            var pending = new List<Task>(BatchSize * 4);
            while (finished < items)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var streams = await db.StreamReadGroupAsync(positions, group, consumer, countPerStream: BatchSize).ConfigureAwait(false);
                var any = false;
                foreach (var stream in streams)
                {
                    var isWork = stream.Key == work;
                    foreach (var entry in stream.Entries)
                    {
                        any = true;
                        pending.Add(db.StreamAcknowledgeAsync(stream.Key, group, entry.Id));
                        if (isWork) pending.Add(db.StreamAddAsync(done, entry.Values));
                        else finished++;
                    }
                }
                if (!any)
                {
                    await Task.Delay(1, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                await Task.WhenAll(pending).ConfigureAwait(false);
                pending.Clear();
            }
        }, cancellationToken);
        await Concurrency.WithTimeout(consume, timeout, () => $"Redis floor: only {finished} of {items} follow-ups consumed", cancellationToken).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var clientCpuSeconds = (Environment.CpuUsage.TotalTime - clientCpu).TotalSeconds;
        var serverCpu = (await info.SnapshotAsync().ConfigureAwait(false)).Since(before).CpuSeconds;
        await info.FlushDatabaseAsync(Database).ConfigureAwait(false);
        return (items / seconds, allocated / (double)items, serverCpu * 1e6 / items, clientCpuSeconds * 1e6 / items);
    }
}
