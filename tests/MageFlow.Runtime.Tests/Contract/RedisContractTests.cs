using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>The contract suite on a real redis-server; each test gets its own key prefix.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisContractTests(RedisServerFixture redis) : ContractTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(redis.Configuration, r => r.KeyPrefix = _prefix);
}
