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

    private protected override IStorageProbe Probe(LabCluster cluster) => new RedisProbe(redis, _prefix);
}

/// <summary>Counts a prefix's signature keys and queue entries straight in Redis.</summary>
internal sealed class RedisProbe(RedisServerFixture redis, string prefix) : IStorageProbe
{
    public async Task<int> SignatureCountAsync()
    {
        var count = 0;
        await foreach (var _ in redis.Server.KeysAsync(pattern: $"{prefix}:s:*", pageSize: 1000)) count++;
        return count;
    }

    public async Task<long> QueueLengthAsync(string taskName)
    {
        var key = (RedisKey)$"{prefix}:q:{taskName}";
        return await redis.Database.KeyTypeAsync(key) == RedisType.Stream ? await redis.Database.StreamLengthAsync(key) : 0;
    }
}
