using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Health;

/// <summary>The health checks on a real three-master Redis Cluster; each test gets its own key prefix, so its own slot.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterHealthCheckTests(RedisClusterFixture cluster) : HealthCheckTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(cluster.Configuration, r => r.KeyPrefix = _prefix);
}
