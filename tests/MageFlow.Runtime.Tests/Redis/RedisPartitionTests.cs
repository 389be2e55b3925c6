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
    public async Task A_read_that_starts_runs_also_applies_the_messages_between_partitions_it_reads_with_them()
    {
        var shop = new Shop();
        await using var cluster = await StartAsync(shop);
        var backend = cluster.Backend;
        await backend.PrepareQueuesAsync([Shop.SendConfirmation], default);
        var (order, far) = await OrderWithAFarCallbackAsync(cluster.Client);
        await order.RunAsync(new OrderMessage("read-and-start", 1m));
        await FinishByHandAsync(cluster, Shop.ProcessOrder, "read-and-start");
        // The completion queued the near confirmation beside the order and sent the far one's dispatch through the outbox.
        var outbox = Layout.Outbox(0);
        var farQueue = Layout.Queue(1, Shop.SendConfirmation);
        var messages = (await redis.Database.StreamRangeAsync(outbox)).Select(m => (string)m.Id!).ToArray();
        Assert.NotEmpty(messages);
        Assert.Equal(0, await redis.Database.StreamLengthAsync(farQueue));

        var taken = await backend.ReadAndStartAsync([Shop.SendConfirmation], "by-hand", 10, TimeSpan.Zero, TimeSpan.FromHours(1), default);

        // The near run is started by the read; the far one is queued by the message read with it (and started too when
        // the read came to its partition after applying the message).
        Assert.Contains(taken, t => ((Delivery)t.Entry).Envelope.SignatureId != far.Id);
        foreach (var run in taken) Assert.Equal(StartResult.Started, run.Started!.Result);
        Assert.Equal(1, await redis.Database.StreamLengthAsync(farQueue));
        await AssertReadAndAcknowledgedAsync(outbox, messages);
    }

    // ---- what a worker does with outbox messages it cannot apply: logged and acknowledged, never retried forever,
    // never in the way of the messages read with them (RedisBackend.ApplyOutboxMessagesAsync) ----

    [Fact]
    public async Task Outbox_entries_without_an_operation_or_a_target_are_logged_and_acknowledged_and_the_message_behind_them_is_applied()
    {
        var shop = new Shop();
        await using var cluster = await StartAsync(shop);
        var (order, far) = await OrderWithAFarCallbackAsync(cluster.Client);
        var partition = Layout.Partitions.IndexOf(order.Id);
        var outbox = Layout.Outbox(partition);
        await order.RunAsync(new OrderMessage("unreadable", 1m));

        // Ahead of the forwarded dispatch, in the outbox the worker reads it from: entries MageFlow never writes.
        string[] unreadable = [];
        await FinishByHandAsync(cluster, Shop.ProcessOrder, "unreadable", beforeComplete: async () => unreadable =
        [
            await AddToOutboxAsync(outbox, (RedisLayout.OutboxTarget, far.Id), (RedisLayout.OutboxArguments, EmptyArguments)),
            await AddToOutboxAsync(outbox, (RedisLayout.OutboxOperation, OutboxOperations.Dispatch), (RedisLayout.OutboxArguments, EmptyArguments)),
            await AddToOutboxAsync(outbox, (RedisLayout.OutboxOperation, OutboxOperations.Dispatch), (RedisLayout.OutboxTarget, "")),
            await AddToOutboxAsync(outbox, ("zz", "1")),
        ]);
        await cluster.StartWorkerAsync();

        await WaitForConfirmationAsync(shop, "far");
        await AssertReadAndAcknowledgedAsync(outbox, unreadable);
        foreach (var entryId in unreadable)
            await WaitForLogAsync(cluster, UnreadableOutboxMessageEvent, entryId, Layout.Partitions.Tag(partition));
        await Recorder.WaitUntilAsync(async () => await far.GetStatusAsync() == SignatureStatus.Done, "the far confirmation finishes");
        Assert.Single(shop.Recorder.Of(Shop.SendConfirmation), r => ((ConfirmationMessage)r.Message!).Template == "far");
    }

    [Fact]
    public async Task Outbox_messages_Redis_refuses_are_logged_and_acknowledged_and_the_message_behind_them_is_applied()
    {
        var shop = new Shop();
        await using var cluster = await StartAsync(shop);
        var (order, far) = await OrderWithAFarCallbackAsync(cluster.Client);
        var outbox = Layout.Outbox(Layout.Partitions.IndexOf(order.Id));
        await order.RunAsync(new OrderMessage("refused", 1m));

        // Well formed enough to reach apply.lua, which raises: an operation it does not know (as a newer MageFlow might
        // write), and a dispatch whose MessagePack arguments were cut short (an array of two holding one string).
        const string unknown = "teleport";
        string[] refused = [];
        await FinishByHandAsync(cluster, Shop.ProcessOrder, "refused", beforeComplete: async () => refused =
        [
            await AddToOutboxAsync(outbox, (RedisLayout.OutboxOperation, unknown), (RedisLayout.OutboxTarget, far.Id), (RedisLayout.OutboxArguments, EmptyArguments)),
            await AddToOutboxAsync(outbox, (RedisLayout.OutboxOperation, OutboxOperations.Dispatch), (RedisLayout.OutboxTarget, far.Id), (RedisLayout.OutboxArguments, new byte[] { 0x92, 0xa1, (byte)'x' })),
        ]);
        await cluster.StartWorkerAsync();

        await WaitForConfirmationAsync(shop, "far");
        await AssertReadAndAcknowledgedAsync(outbox, refused);
        await WaitForLogAsync(cluster, OutboxApplyRefusedEvent, $"'{unknown}'", far.Id, $"unknown outbox message {unknown}");
        await WaitForLogAsync(cluster, OutboxApplyRefusedEvent, $"'{OutboxOperations.Dispatch}'", far.Id, "Missing bytes");
        // The refused dispatch dispatched nothing: the far callback ran once, for the message that was applied.
        await Recorder.WaitUntilAsync(async () => await far.GetStatusAsync() == SignatureStatus.Done, "the far confirmation finishes");
        Assert.Single(shop.Recorder.Of(Shop.SendConfirmation), r => ((ConfirmationMessage)r.Message!).Template == "far");
    }

    [Fact]
    public async Task A_forwarded_dispatch_to_a_callback_that_no_longer_exists_is_logged_and_acknowledged_and_dispatches_nothing()
    {
        var shop = new Shop();
        await using var cluster = await StartAsync(shop);
        var client = cluster.Client;
        // Two callbacks beside the order, so it is placed with them; two in the other partition, reached by the outbox.
        var near = await SignInAsync(0, () => client.AsignAsync(Shop.SendConfirmation, new { template = "near" }));
        var alsoNear = await SignInAsync(0, () => client.AsignAsync(Shop.SendConfirmation, new { template = "near" }));
        var gone = await SignInAsync(1, () => client.AsignAsync(Shop.Audit, new { source = "gone" }));
        var far = await SignInAsync(1, () => client.AsignAsync(Shop.SendConfirmation, new { template = "far" }));
        var order = await client.AsignAsync(Shop.ProcessOrder, successCallbacks: [near, alsoNear, gone, far]);
        Assert.Equal(0, Layout.Partitions.IndexOf(order.Id));
        var outbox = Layout.Outbox(0);
        await order.RunAsync(new OrderMessage("gone", 1m));
        await FinishByHandAsync(cluster, Shop.ProcessOrder, "gone");

        // The callback expires (or is deleted) while its dispatch waits in the outbox.
        var forwarded = (await redis.Database.StreamRangeAsync(outbox)).Where(e =>
            e[RedisLayout.OutboxOperation] == OutboxOperations.Dispatch && e[RedisLayout.OutboxTarget] == gone.Id).ToArray();
        var dispatch = (string)Assert.Single(forwarded).Id!;
        Assert.True(await redis.Database.KeyDeleteAsync(Layout.Signature(gone.Id)));
        await cluster.StartWorkerAsync();

        await WaitForConfirmationAsync(shop, "far");
        await AssertReadAndAcknowledgedAsync(outbox, [dispatch]);
        await WaitForLogAsync(cluster, ForwardedCallbackMissingEvent, gone.Id);
        var queue = Layout.Queue(1, Shop.Audit);
        Assert.Equal(0L, await redis.Database.KeyExistsAsync(queue) ? (await redis.Database.StreamInfoAsync(queue)).EntriesAdded : 0);
        Assert.False(await redis.Database.KeyExistsAsync(Layout.Signature(gone.Id)), "applying the dispatch recreated the missing callback");
        Assert.Empty(shop.Recorder.Of(Shop.Audit));
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

    private const int ForwardedCallbackMissingEvent = 106;
    private const int OutboxApplyRefusedEvent = 108;
    private const int UnreadableOutboxMessageEvent = 109;

    /// <summary>An empty MessagePack array: the arguments of a message that needs none.</summary>
    private static readonly byte[] EmptyArguments = [0x90];

    /// <summary>A signature made by <paramref name="sign"/> in <paramref name="partition"/> (new ones go to each partition in turn).</summary>
    private async Task<TaskSignature> SignInAsync(int partition, Func<Task<TaskSignature>> sign)
    {
        for (var attempt = 0; attempt < 2 * PartitionCount; attempt++)
        {
            var signature = await sign();
            if (Layout.Partitions.IndexOf(signature.Id) == partition) return signature;
        }
        throw new InvalidOperationException($"No new signature was placed in partition {partition}.");
    }

    /// <summary>An order with a success callback beside it and one in the other partition (template "far"), reached by the outbox.</summary>
    private async Task<(TaskSignature Order, TaskSignature Far)> OrderWithAFarCallbackAsync(IMageFlow client)
    {
        var near = await SignInAsync(0, () => client.AsignAsync(Shop.SendConfirmation, new { template = "near" }));
        var far = await SignInAsync(1, () => client.AsignAsync(Shop.SendConfirmation, new { template = "far" }));
        var order = await client.AsignAsync(Shop.ProcessOrder, successCallbacks: [near, far]);
        Assert.Equal(0, Layout.Partitions.IndexOf(order.Id));
        return (order, far);
    }

    private async Task<string> AddToOutboxAsync(RedisKey outbox, params (string Name, RedisValue Value)[] fields) =>
        (string)(await redis.Database.StreamAddAsync(outbox, fields.Select(f => new NameValueEntry(f.Name, f.Value)).ToArray()))!;

    /// <summary>A callback reached by the forwarded dispatch ran: the worker read its outbox, and applied it.</summary>
    private static Task WaitForConfirmationAsync(Shop shop, string template) =>
        Recorder.WaitUntilAsync(() => Task.FromResult(shop.Recorder.Of(Shop.SendConfirmation).Any(r => ((ConfirmationMessage)r.Message!).Template == template)),
            $"the '{template}' confirmation, dispatched through the outbox, runs");

    /// <summary>
    /// A worker read each entry (the outbox group was delivered past it) and acknowledged it: none is pending, so none
    /// is taken over and applied again after the visibility timeout.
    /// </summary>
    private async Task AssertReadAndAcknowledgedAsync(RedisKey outbox, IReadOnlyList<string> entryIds)
    {
        Assert.NotEmpty(entryIds);
        var group = (await redis.Database.StreamGroupInfoAsync(outbox)).Single(g => g.Name == RedisLayout.ConsumerGroup);
        foreach (var entryId in entryIds)
            Assert.True(CompareEntryIds(group.LastDeliveredId!, entryId) >= 0, $"No worker read the outbox entry {entryId} (delivered up to {group.LastDeliveredId}).");
        await Recorder.WaitUntilAsync(async () =>
        {
            foreach (var entryId in entryIds)
                if ((await redis.Database.StreamPendingMessagesAsync(outbox, RedisLayout.ConsumerGroup, 10, RedisValue.Null, entryId, entryId)).Length > 0) return false;
            return true;
        }, $"the outbox entries {string.Join(", ", entryIds)} are acknowledged");
        await Recorder.WaitUntilAsync(async () => (await redis.Database.StreamPendingAsync(outbox, RedisLayout.ConsumerGroup)).PendingMessageCount == 0,
            "nothing is left pending in the outbox");
    }

    private static int CompareEntryIds(string a, string b)
    {
        static (long, long) Parse(string id) => id.Split('-') is [var ms, var seq]
            ? (long.Parse(ms, System.Globalization.CultureInfo.InvariantCulture), long.Parse(seq, System.Globalization.CultureInfo.InvariantCulture))
            : throw new FormatException($"Not a stream entry id: {id}");
        return Parse(a).CompareTo(Parse(b));
    }

    /// <summary>The runtime logged event <paramref name="eventId"/> at Warning or above, its message naming each of <paramref name="texts"/>.</summary>
    private static async Task WaitForLogAsync(TestCluster cluster, int eventId, params string[] texts)
    {
        try
        {
            await Recorder.WaitUntilAsync(() => Task.FromResult(cluster.Logs.Entries.Any(e =>
                    e.EventId == eventId && e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && texts.All(text => e.Message.Contains(text, StringComparison.Ordinal)))),
                $"event {eventId} naming {string.Join(", ", texts)} is logged");
        }
        catch (TimeoutException timedOut)
        {
            var logged = cluster.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(e => $"{e.Level} {e.EventId}: {e.Message}");
            throw new TimeoutException($"{timedOut.Message} Logged at Warning or above: {string.Join(" || ", logged)}", timedOut);
        }
    }

    private RedisBackend NewBackend(int partitions) =>
        new(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = _prefix, Partitions = partitions }, NullLogger<RedisBackend>.Instance);

    private Task<TestCluster> StartAsync(Shop shop) =>
        TestCluster.StartAsync(o => o.UseRedis(redis.Configuration, r => { r.KeyPrefix = _prefix; r.Partitions = PartitionCount; }), shop.Register, workers: 0);

    /// <summary>
    /// No worker runs: the test starts and completes the order's run itself, as a worker would; <paramref name="beforeComplete"/>
    /// runs between the two, so what it adds to an outbox comes ahead of the messages the completion forwards.
    /// </summary>
    private static async Task FinishByHandAsync(TestCluster cluster, string task, string orderId, Func<Task>? beforeComplete = null)
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
        if (beforeComplete is not null) await beforeComplete();
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
