using System.Diagnostics;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.Health;

/// <summary>The health checks on a real redis-server; each test gets its own key prefix.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisHealthCheckTests(RedisServerFixture redis) : HealthCheckTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(redis.Configuration, r => r.KeyPrefix = _prefix);

    [Fact]
    public async Task Store_check_is_unhealthy_naming_the_store_without_its_password_when_redis_is_down()
    {
        const string password = "health-secret";
        var port = RedisProcess.FreeLoopbackPort();
        Process? server = await RedisProcess.StartAsync(port, ["--save", "", "--appendonly", "no"]);
        try
        {
            // Set after start: the helper's readiness probe speaks PING without AUTH.
            await using (var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true"))
                await admin.GetServer("127.0.0.1", port).ConfigSetAsync("requirepass", password);
            var host = await StartHostAsync(withWorker: false,
                backend: o => o.UseRedis($"127.0.0.1:{port},password={password},connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000", r => r.KeyPrefix = _prefix));
            var up = (await CheckAsync(host)).Entries[MageFlowHealthCheckNames.Store];
            Assert.True(up.Status == HealthStatus.Healthy, up.Description);

            await RedisProcess.StopAsync(server);
            server = null;

            var down = (await CheckAsync(host)).Entries[MageFlowHealthCheckNames.Store];
            Assert.Equal(HealthStatus.Unhealthy, down.Status);
            Assert.Contains($"127.0.0.1:{port}", down.Description, StringComparison.Ordinal);
            Assert.DoesNotContain(password, down.Description, StringComparison.Ordinal);
            Assert.NotNull(down.Exception);
        }
        finally
        {
            await RedisProcess.StopAsync(server);
        }
    }
}
