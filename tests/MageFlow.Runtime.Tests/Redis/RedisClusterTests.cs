using System.Collections.Concurrent;
using MageFlow.Backends.Redis;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace MageFlow.Runtime.Tests.Redis;

/// <summary>
/// What only a Redis Cluster can break: a store's keys share one hash tag, so one slot, which may sit on any master,
/// move while workers run, or lose its functions. The contract suite itself runs here too
/// (<see cref="RedisClusterContractTests"/>).
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterTests(RedisClusterFixture cluster)
{
    [Fact]
    public async Task A_store_works_on_whichever_master_serves_its_slot()
    {
        var prefixesByMaster = new Dictionary<int, string>();
        for (var tries = 0; tries < 200 && prefixesByMaster.Count < 2; tries++)
        {
            var prefix = RedisServerFixture.NewPrefix();
            var (port, _) = await cluster.OwnerOfSlotAsync(await cluster.SlotOfAsync("{" + prefix + "}"));
            prefixesByMaster.TryAdd(port, prefix);
        }
        Assert.True(prefixesByMaster.Count >= 2, "the test needs stores on two masters");

        foreach (var prefix in prefixesByMaster.Values)
        {
            var shop = new Shop();
            await using var workers = await TestCluster.StartAsync(o => o.UseRedis(cluster.Configuration, r => r.KeyPrefix = prefix), shop.Register);
            var confirm = await workers.Client.AsignAsync(Shop.SendConfirmation, new { template = "welcome" });
            var order = await workers.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]);

            await order.RunAsync(new OrderMessage("o-" + prefix, 3m));

            var confirmation = (ConfirmationMessage)Assert.Single(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1)).Message!;
            Assert.Equal("o-" + prefix, confirmation.Receipt!.OrderId);
        }
    }

    [Fact]
    public async Task A_slot_migration_during_a_run_loses_nothing_and_fires_each_callback_once()
    {
        var prefix = RedisServerFixture.NewPrefix();
        var slot = await cluster.SlotOfAsync("{" + prefix + "}");
        // Moved key by key with a pause between batches, so the slot stays half-moved while orders run.
        await OrdersFlowWhileTheSlotMovesAsync(prefix, slot, () => cluster.MoveSlotAsync(slot, pauseBetweenBatches: TimeSpan.FromMilliseconds(10)));
    }

    [Fact]
    public async Task A_reshard_by_redis_cli_during_a_run_loses_nothing_and_fires_each_callback_once()
    {
        // redis-cli --cluster reshard moves a master's lowest slots first: the store is given a prefix that hashes there.
        var fromPort = cluster.Ports[1];
        var slot = await cluster.LowestSlotAsync(fromPort);
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
        var prefix = Enumerable.Range(0, 1_000_000).Select(i => $"rs{Guid.NewGuid().ToString("N")[..4]}{i}")
            .First(candidate => connection.HashSlot("{" + candidate + "}") == slot);
        await OrdersFlowWhileTheSlotMovesAsync(prefix, slot, () => cluster.ReshardOneSlotAsync(fromPort, keysPerBatch: 2));
    }

    [Fact]
    public async Task The_slot_of_one_partition_moved_during_a_run_loses_nothing_while_the_other_partitions_run()
    {
        var prefix = RedisServerFixture.NewPrefix();
        var slot = await cluster.SlotOfAsync(new RedisLayout(prefix, 4).Partitions.Tag(1));
        await OrdersFlowWhileTheSlotMovesAsync(prefix, slot, () => cluster.MoveSlotAsync(slot, pauseBetweenBatches: TimeSpan.FromMilliseconds(10)), partitions: 4);
    }

    /// <summary>
    /// Orders with a confirmation callback flow before, during and after <paramref name="moveSlot"/>; every one is confirmed
    /// once. With several partitions each order also has an audit callback signed into the next partition, which its
    /// completion reaches through the outbox; every audit runs once too.
    /// </summary>
    private async Task OrdersFlowWhileTheSlotMovesAsync(string prefix, int slot, Func<Task<int>> moveSlot, int partitions = 1)
    {
        var (ownerPort, _) = await cluster.OwnerOfSlotAsync(slot);
        var shop = new Shop();
        await using var workers = await TestCluster.StartAsync(o => o.UseRedis(cluster.Configuration, r => { r.KeyPrefix = prefix; r.Partitions = partitions; }), shop.Register, workers: 2);
        var sent = new ConcurrentDictionary<string, (string Order, string Confirm)>();

        async Task SendAsync(string orderId)
        {
            TaskSignature[] audit = partitions > 1 ? [await workers.Client.AsignAsync(Shop.Audit, new { source = orderId })] : [];
            var confirm = await workers.Client.AsignAsync(Shop.SendConfirmation, new { template = "welcome" });
            var order = await workers.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm, .. audit]);
            await order.RunAsync(new OrderMessage(orderId, 1m));
            sent[orderId] = (order.Id, confirm.Id);
        }

        for (var i = 0; i < 60; i++) await SendAsync($"before-{i}");
        using var stopSending = new CancellationTokenSource();
        var during = Task.Run(async () =>
        {
            for (var i = 0; !stopSending.IsCancellationRequested; i++)
            {
                await SendAsync($"during-{i}");
                await Task.Delay(2);
            }
        });
        // The move starts with orders already on the wire, and they keep coming until it is over.
        while (!sent.Keys.Any(id => id.StartsWith("during-", StringComparison.Ordinal))) await Task.Delay(2);
        var newOwner = await moveSlot();
        await stopSending.CancelAsync();
        await during;
        for (var i = 0; i < 20; i++) await SendAsync($"after-{i}");

        Assert.NotEqual(ownerPort, newOwner);
        Assert.Equal(newOwner, (await cluster.OwnerOfSlotAsync(slot)).Port);
        // No timeout exception: if some never arrive, the assertions below say which orders and in what state.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (shop.Recorder.Of(Shop.SendConfirmation).Count < sent.Count && DateTime.UtcNow < deadline) await Task.Delay(20);
        var confirmed = shop.Recorder.Of(Shop.SendConfirmation).Select(c => ((ConfirmationMessage)c.Message!).Receipt!.OrderId).ToArray();
        var missing = sent.Keys.Except(confirmed).Order().ToArray();
        var states = await Task.WhenAll(missing.Take(5).Select(async id =>
            $"{id}: order {(await workers.Client.GetSignatureInfoAsync(sent[id].Order))?.Status.ToString() ?? "gone"}, " +
            $"confirmation {(await workers.Client.GetSignatureInfoAsync(sent[id].Confirm))?.Status.ToString() ?? "gone"}"));
        var queues = "";
        if (missing.Length > 0)
        {
            await using var inspector = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
            foreach (var task in new[] { Shop.ProcessOrder, Shop.SendConfirmation })
            {
                var key = "{" + prefix + "}:q:" + task;
                var entries = await inspector.GetDatabase().StreamRangeAsync(key);
                var pending = await inspector.GetDatabase().StreamPendingAsync(key, "mf");
                var forMissing = entries.Where(e => missing.Any(id => e.Values.Any(v => v.Value == sent[id].Order || v.Value == sent[id].Confirm))).Select(e => e.Id.ToString());
                queues += $" {task}: {entries.Length} entries, {pending.PendingMessageCount} pending, entries of missing: [{string.Join(",", forMissing)}];";
            }
        }
        var warnings = workers.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(e => e.Message[..Math.Min(e.Message.Length, 160)]).Distinct().Take(8);
        Assert.True(missing.Length == 0,
            $"{missing.Length} of {sent.Count} orders never confirmed: {string.Join("; ", states)}.{queues} Logged: {string.Join(" || ", warnings)}");
        Assert.Equal(sent.Keys.Order(), confirmed.Order());   // none twice
        Assert.Contains(confirmed, id => id.StartsWith("during-", StringComparison.Ordinal));
        if (partitions == 1) return;
        await Recorder.WaitUntilAsync(() => Task.FromResult(shop.Recorder.Of(Shop.Audit).Count >= sent.Count), "every order's audit runs");
        Assert.Equal(sent.Keys.Order(), shop.Recorder.Of(Shop.Audit).Select(a => ((AuditMessage)a.Message!).Source!).Order());
    }

    [Fact]
    public async Task Functions_lost_on_every_node_are_loaded_again_by_the_next_transition()
    {
        var shop = new Shop();
        var prefix = RedisServerFixture.NewPrefix();
        await using var workers = await TestCluster.StartAsync(o => o.UseRedis(cluster.Configuration, r => r.KeyPrefix = prefix), shop.Register);
        var first = await workers.Client.AsignAsync(Shop.ProcessOrder);
        await first.RunAsync(new OrderMessage("first", 1m));
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);

        await cluster.OnEveryNodeAsync("function", "flush");
        var confirm = await workers.Client.AsignAsync(Shop.SendConfirmation, new { template = "again" });
        var second = await workers.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]);
        await second.RunAsync(new OrderMessage("second", 2m));

        var confirmation = (ConfirmationMessage)Assert.Single(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1)).Message!;
        Assert.Equal("second", confirmation.Receipt!.OrderId);
    }

    [Fact]
    public async Task A_database_other_than_0_is_refused_with_the_reason()
    {
        await using var backend = new RedisBackend(new RedisBackendOptions { Configuration = cluster.Configuration, Database = 2 }, NullLogger<RedisBackend>.Instance);

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => backend.GetSignatureAsync("any", default));

        Assert.Contains("cluster mode", refused.Message);
        Assert.Contains("Database is 2", refused.Message);
    }

    [Fact]
    public void A_key_prefix_with_a_brace_is_refused_because_the_prefix_is_the_hash_tag()
    {
        var refused = Assert.Throws<ArgumentException>(() => new RedisBackend(
            new RedisBackendOptions { Configuration = cluster.Configuration, KeyPrefix = "app{1}" }, NullLogger<RedisBackend>.Instance));

        Assert.Contains("KeyPrefix 'app{1}'", refused.Message);
        Assert.Contains("hash tag", refused.Message);
    }
}
