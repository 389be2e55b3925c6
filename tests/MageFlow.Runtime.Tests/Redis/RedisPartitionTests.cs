using MageFlow.Backends;
using MageFlow.Backends.Redis;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.Redis;

[Collection(RedisCollection.Name)]
public sealed class RedisPartitionTests(RedisServerFixture redis) : RedisPartitionSuite(redis);

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterPartitionTests(RedisClusterFixture cluster) : RedisPartitionSuite(cluster)
{
    [Fact]
    public async Task Six_partitions_are_served_two_by_each_of_the_three_masters_and_a_run_of_orders_reaches_all_of_them()
    {
        var prefix = RedisServerFixture.NewPrefix();
        var layout = new RedisLayout(prefix, 6);
        var owners = new List<int>();
        for (var k = 0; k < 6; k++)
        {
            var (port, _) = await cluster.OwnerOfSlotAsync(await cluster.SlotOfAsync(layout.Partitions.Tag(k)));
            owners.Add(port);
        }
        Assert.Equal([2, 2, 2], owners.GroupBy(port => port).Select(g => g.Count()));

        var before = await ScriptCallsByMasterAsync();
        var shop = new Shop();
        await using var workers = await TestCluster.StartAsync(o => o.UseRedis(cluster.Configuration, r => { r.KeyPrefix = prefix; r.Partitions = 6; }), shop.Register);
        for (var i = 0; i < 12; i++)
        {
            var confirm = await workers.Client.AsignAsync(Shop.SendConfirmation, new { template = "welcome" });
            var order = await workers.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]);
            await order.RunAsync(new OrderMessage($"spread-{i}", i));
        }
        Assert.Equal(12, (await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 12)).Count);
        var after = await ScriptCallsByMasterAsync();
        // One store's transitions ran on every master, not on the one that serves a single slot.
        Assert.All(after, master => Assert.True(master.Value > before.GetValueOrDefault(master.Key), $"master {master.Key} ran none of the store's transitions"));
    }

    private async Task<Dictionary<string, long>> ScriptCallsByMasterAsync()
    {
        var calls = new Dictionary<string, long>();
        foreach (var server in cluster.Database.Multiplexer.GetServers().Where(s => !s.IsReplica))
        {
            var stats = await server.InfoAsync("commandstats");
            var fcall = stats.SelectMany(group => group).FirstOrDefault(pair => pair.Key == "cmdstat_fcall").Value ?? "calls=0";
            calls[server.EndPoint.ToString()!] = long.Parse(fcall.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        }
        return calls;
    }
}

/// <summary>
/// A store split into partitions, on one Redis and on the 3-master cluster: what crosses partitions goes through the
/// outbox exactly once, even when a forwarder stops between applying a message and acknowledging it; every client
/// must split the store the same way.
/// </summary>
public abstract class RedisPartitionSuite(IRedisDeployment redis)
{
    private const int PartitionCount = 2;
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    private RedisLayout Layout => new(_prefix, PartitionCount);

    [Fact]
    public async Task A_callback_in_another_partition_is_dispatched_once_though_its_message_is_applied_twice()
    {
        var shop = new Shop();
        await using var cluster = await StartAsync(shop);
        var client = cluster.Client;
        // In turn: one confirmation in each partition; the order goes with the first, the other is reached by the outbox.
        var here = await client.AsignAsync(Shop.SendConfirmation, new { template = "here" });
        var there = await client.AsignAsync(Shop.SendConfirmation, new { template = "there" });
        var order = await client.AsignAsync(Shop.ProcessOrder, successCallbacks: [here, there]);
        Assert.Equal(Layout.Partitions.IndexOf(here.Id), Layout.Partitions.IndexOf(order.Id));
        Assert.NotEqual(Layout.Partitions.IndexOf(there.Id), Layout.Partitions.IndexOf(order.Id));
        await order.RunAsync(new OrderMessage("twice", 1m));

        await FinishByHandAsync(cluster, Shop.ProcessOrder, "twice");
        await ApplyTwiceAsync(cluster, Layout.Partitions.IndexOf(order.Id));

        var queue = Layout.Queue(Layout.Partitions.IndexOf(there.Id), Shop.SendConfirmation);
        Assert.Equal(1, await redis.Database.StreamLengthAsync(queue));
        await cluster.StartWorkerAsync();
        var confirmations = await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 2);
        Assert.Equal(["here", "there"], confirmations.Select(r => ((ConfirmationMessage)r.Message!).Template).Order());
        await Recorder.WaitUntilAsync(async () => await there.GetStatusAsync() == SignatureStatus.Done, "the far confirmation finishes");
        Assert.Equal(2, shop.Recorder.Of(Shop.SendConfirmation).Count);
    }

    [Fact]
    public async Task An_item_in_another_partition_than_its_swarm_counts_once_though_its_outcome_is_applied_twice()
    {
        var shop = new Shop();
        await using var cluster = await StartAsync(shop);
        var client = cluster.Client;
        var swarm = await client.SwarmAsync();
        TaskSignature<OrderMessage> item;
        do item = await client.AsignAsync<OrderMessage>(Shop.ProcessOrder);
        while (Layout.Partitions.IndexOf(item.Id) == Layout.Partitions.IndexOf(swarm.Id));
        await swarm.RunInSwarmAsync(item, new OrderMessage("far", 2m));
        await swarm.RunInSwarmAsync(await client.AsignAsync<OrderMessage>(Shop.ProcessOrder), new OrderMessage("other", 3m));
        await swarm.CloseAsync();

        await FinishByHandAsync(cluster, Shop.ProcessOrder, "far");
        await ApplyTwiceAsync(cluster, Layout.Partitions.IndexOf(item.Id));

        // Counted once: a second count would also have completed the swarm before its other item finished.
        var progress = (await swarm.GetInfoAsync()).Swarm!;
        Assert.Equal((2, 1, 1, 0), (progress.Added, progress.Running, progress.Succeeded, progress.Failed));
        Assert.False((await swarm.GetInfoAsync()).IsFinished);
    }

    [Fact]
    public async Task A_client_split_otherwise_than_the_store_is_refused_at_connect_naming_both()
    {
        await using (var first = NewBackend(PartitionCount)) await first.GetSignatureAsync("x", default);

        foreach (var count in new[] { 1, 3 })
        {
            await using var other = NewBackend(count);
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => other.GetSignatureAsync("x", default));
            Assert.Contains($"split into {PartitionCount} partitions", refused.Message);
            Assert.Contains($"Partitions = {count}", refused.Message);
        }
    }

    private RedisBackend NewBackend(int partitions) =>
        new(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = _prefix, Partitions = partitions }, NullLogger<RedisBackend>.Instance);

    private Task<TestCluster> StartAsync(Shop shop) =>
        TestCluster.StartAsync(o => o.UseRedis(redis.Configuration, r => { r.KeyPrefix = _prefix; r.Partitions = PartitionCount; }), shop.Register, workers: 0);

    /// <summary>No worker runs: the test starts and completes the order's run itself, as a worker would.</summary>
    private static async Task FinishByHandAsync(TestCluster cluster, string task, string orderId)
    {
        var backend = cluster.Backend;
        await backend.PrepareQueuesAsync([task], default);
        var runs = new List<Delivery>();
        bool IsTheOrder(Delivery run) => System.Text.Encoding.UTF8.GetString(run.Envelope.Payload.Span).Contains($"\"{orderId}\"", StringComparison.Ordinal);
        await Recorder.WaitUntilAsync(async () =>
        {
            runs.AddRange((await backend.ReadAsync([task], "by-hand", 10, TimeSpan.FromMilliseconds(50), default)).Cast<Delivery>());
            return runs.Any(IsTheOrder);
        }, $"the {task} run of {orderId} is queued");
        var run = runs.Single(IsTheOrder);
        Assert.Equal(StartResult.Started, (await backend.StartAsync(run, TimeSpan.FromHours(1), default)).Result);
        var result = System.Text.Encoding.UTF8.GetBytes($$"""{"orderId":"{{orderId}}","charged":1}""");
        Assert.True((await backend.CompleteAsync(run, result, new SignatureLifetimes(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5)), default)).Applied);
    }

    /// <summary>
    /// A forwarder takes the partition's outbox messages and applies them, then stops before acknowledging; after the
    /// visibility timeout (here at once) another worker takes them over and applies them again.
    /// </summary>
    private async Task ApplyTwiceAsync(TestCluster cluster, int partition)
    {
        var backend = (RedisBackend)cluster.Backend;
        var outbox = Layout.Outbox(partition);
        var taken = await redis.Database.ExecuteAsync("XREADGROUP", "GROUP", RedisLayout.ConsumerGroup, "stopping-forwarder", "COUNT", 100, "STREAMS", outbox, ">");
        // [[key, entries]], or {key: entries} under RESP3
        var messages = (RedisResult[])(taken.Resp3Type == ResultType.Map ? taken[1] : taken[0][1])!;
        Assert.NotEmpty(messages);
        Assert.Equal(messages.Length, (await backend.ApplyOutboxMessagesAsync(redis.Database, partition, messages)).Length);

        // Only the outbox is taken over: the test's own runs stay with it.
        await backend.ReclaimAsync([], "taking-over", TimeSpan.Zero, 100, default);
        Assert.Equal(0, (await redis.Database.StreamPendingAsync(outbox, RedisLayout.ConsumerGroup)).PendingMessageCount);
    }
}
