using MageFlow.Backends.Redis;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MageFlow.Runtime.Tests.Health;

/// <summary>The health checks on a store of two partitions, and what only such a store has: messages between partitions.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisPartitionedHealthCheckTests(RedisServerFixture redis) : HealthCheckTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseRedis(redis.Configuration, r =>
    {
        r.KeyPrefix = _prefix;
        r.Partitions = 2;
    });

    [Fact]
    public async Task Queues_check_is_degraded_when_a_message_between_partitions_waits_longer_than_MaxQueueAge()
    {
        var maxQueueAge = TimeSpan.FromSeconds(3);
        var host = await StartHostAsync(withWorker: false, o => o.MaxQueueAge = maxQueueAge);
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var partitions = new RedisLayout(_prefix, 2).Partitions;
        var swarm = await mage.SwarmAsync();
        TaskSignature<OrderMessage> item;
        do item = await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder);
        while (partitions.IndexOf(item.Id) == partitions.IndexOf(swarm.Id));

        // Starting an item of the other partition is a message from the swarm's partition to the item's: only a worker applies it.
        var writtenAt = DateTime.UtcNow;
        await swarm.RunInSwarmAsync(item, new OrderMessage(NewOrderId("o-"), 1m));

        // Alive first: the fresh message is seen, and it is young enough.
        var fresh = (await CheckAsync(host)).Entries[MageFlowHealthCheckNames.Queues];
        Assert.True(DateTime.UtcNow - writtenAt < maxQueueAge, "the machine was too slow to check a fresh message");
        Assert.True(fresh.Status == HealthStatus.Healthy, fresh.Description);
        Assert.InRange((double)fresh.Data["unforwardedAgeSeconds"], 0, maxQueueAge.TotalSeconds);

        var late = await CheckUntilAsync(host, MageFlowHealthCheckNames.Queues, entry => entry.Status != HealthStatus.Healthy);

        Assert.True(late.Status == HealthStatus.Degraded, late.Description);
        Assert.Contains("A message between the store's partitions has waited", late.Description, StringComparison.Ordinal);
        Assert.True((double)late.Data["unforwardedAgeSeconds"] > maxQueueAge.TotalSeconds);
    }
}
