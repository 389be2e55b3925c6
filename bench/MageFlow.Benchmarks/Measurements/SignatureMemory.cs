using MageFlow.Benchmarks.Infrastructure;
using MageFlow.Benchmarks.Workload;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MageFlow.Benchmarks.Measurements;

internal sealed record StoredKey(string Key, string Type, long Bytes);

internal sealed record MemoryResult(int Signatures, long UsedMemoryDelta, double BytesPerSignature, IReadOnlyList<StoredKey> SampleKeys);

/// <summary>
/// used_memory growth while storing pending signatures, in the benchmark's own mix: half callbacks (one bound
/// kwarg), half tasks (one bound kwarg and one success callback). Nothing is dispatched.
/// </summary>
internal static class SignatureMemory
{
    public static async Task<MemoryResult> RunAsync(RedisChoice backend, BenchWorkload workload, RedisInfo info, int signatures, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pairs = signatures / 2;
        await backend.ResetAsync().ConfigureAwait(false);
        var producer = await MageHost.StartAsync(backend, workload, withWorker: false).ConfigureAwait(false);
        try
        {
            var mage = producer.Services.GetRequiredService<IMageFlow>();
            // One pair first so connections and loaded scripts are not part of the delta.
            await MageFlowEndToEnd.SignPairsAsync(workload, mage, 1, timeout, cancellationToken).ConfigureAwait(false);
            await backend.ResetAsync().ConfigureAwait(false);
            var before = await info.UsedMemoryAsync().ConfigureAwait(false);
            await MageFlowEndToEnd.SignPairsAsync(workload, mage, pairs, timeout, cancellationToken).ConfigureAwait(false);
            var after = await info.UsedMemoryAsync().ConfigureAwait(false);
            var samples = await SampleKeysAsync(info.Connection).ConfigureAwait(false);
            return new MemoryResult(pairs * 2, after - before, (after - before) / (double)(pairs * 2), samples);
        }
        finally
        {
            await MageHost.StopAsync(producer).ConfigureAwait(false);
            await backend.ResetAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A few stored keys with their type and MEMORY USAGE, to show what one signature costs and why.</summary>
    private static async Task<IReadOnlyList<StoredKey>> SampleKeysAsync(ConnectionMultiplexer connection)
    {
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var db = connection.GetDatabase(RedisChoice.Database);
        var keys = new List<StoredKey>();
        var seenTypes = new HashSet<string>();
        await foreach (var key in server.KeysAsync(RedisChoice.Database, pageSize: 50).ConfigureAwait(false))
        {
            var type = (await db.KeyTypeAsync(key).ConfigureAwait(false)).ToString();
            var encoding = (string?)await db.ExecuteAsync("OBJECT", "ENCODING", key).ConfigureAwait(false) ?? "?";
            var bytes = (long)await db.ExecuteAsync("MEMORY", "USAGE", key).ConfigureAwait(false);
            // Two of each shape are enough to show the pattern.
            if (seenTypes.Add($"{type}/{encoding}/{bytes / 64}") || keys.Count < 4)
                keys.Add(new StoredKey(key.ToString(), $"{type} ({encoding})", bytes));
            if (keys.Count >= 6) break;
        }
        return keys;
    }
}
