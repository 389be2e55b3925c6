using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>
/// The contract on a store of four partitions on one Redis: signatures without relations are placed in turn, so
/// callbacks, steps and items often live in another partition than the signature that touches them, and every
/// cross-partition path (the outbox, its forwarder, the claims of steps and items) is exercised.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisPartitionedContractTests(RedisServerFixture redis) : ContractTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(redis.Configuration, r =>
    {
        r.KeyPrefix = _prefix;
        r.Partitions = 4;
    });
}

/// <summary>The contract on a store of six partitions over the 3-master cluster: each master serves two of them.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterPartitionedContractTests(RedisClusterFixture cluster) : ContractTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(cluster.Configuration, r =>
    {
        r.KeyPrefix = _prefix;
        r.Partitions = 6;
    });
}
