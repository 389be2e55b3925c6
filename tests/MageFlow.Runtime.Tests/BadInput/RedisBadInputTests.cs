using MageFlow.Runtime.Tests.Infrastructure;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.BadInput;

/// <summary>The bad-input suite on a real redis-server; each test gets its own key prefix.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisBadInputTests(RedisServerFixture redis) : BadInputTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(redis.Configuration, r => r.KeyPrefix = _prefix);

    protected override Action<MageFlowOptions> UseOtherStore() => o => o.UseRedis(redis.Configuration, r => r.KeyPrefix = _prefix + "o");

    private protected override IStorageProbe Probe(LabCluster cluster) => new RedisProbe(redis.Server, redis.Database, _prefix);
}

/// <summary>The bad-input suite on a real three-master Redis Cluster; each test gets its own key prefix, so its own slot.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterBadInputTests(RedisClusterFixture cluster) : BadInputTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(cluster.Configuration, r => r.KeyPrefix = _prefix);

    protected override Action<MageFlowOptions> UseOtherStore() => o => o.UseRedis(cluster.Configuration, r => r.KeyPrefix = _prefix + "o");

    private protected override IStorageProbe Probe(LabCluster lab) => new RedisProbe(cluster.ServerOfStore(_prefix), cluster.Database, _prefix);
}

/// <summary>Counts a prefix's signature keys and queue entries straight in Redis: <paramref name="server"/> holds the prefix's keys.</summary>
internal sealed class RedisProbe(IServer server, IDatabase db, string prefix) : IStorageProbe
{
    public async Task<int> SignatureCountAsync()
    {
        var count = 0;
        await foreach (var _ in server.KeysAsync(pattern: $"{{{prefix}}}:s:*", pageSize: 1000)) count++;
        return count;
    }

    public async Task<long> QueueLengthAsync(string taskName)
    {
        // Entries still to run or running: pending ones and those after the group's last delivered id. Finished
        // entries stay in the stream until a worker trims them.
        var key = (RedisKey)$"{{{prefix}}}:q:{taskName}";
        if (await db.KeyTypeAsync(key) != RedisType.Stream) return 0;
        var group = (await db.StreamGroupInfoAsync(key)).FirstOrDefault(g => g.Name == "mf");
        if (group.Name is null) return await db.StreamLengthAsync(key);
        var undelivered = await db.StreamRangeAsync(key, minId: "(" + group.LastDeliveredId, maxId: "+");
        return group.PendingMessageCount + undelivered.Length;
    }
}
