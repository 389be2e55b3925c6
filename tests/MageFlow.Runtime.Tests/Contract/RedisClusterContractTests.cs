using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>The contract suite on a real three-master Redis Cluster; each test gets its own key prefix, so its own hash slot.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterContractTests(RedisClusterFixture cluster) : ContractTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(cluster.Configuration, r => r.KeyPrefix = _prefix);
}
