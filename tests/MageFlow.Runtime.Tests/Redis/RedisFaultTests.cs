using System.Text;
using MageFlow.Backends;
using MageFlow.Backends.Redis;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using MageFlow.Signatures;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.Redis;

/// <summary>Rules 21 and 23 where only Redis can break them, on one redis-server.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisFaultTests(RedisServerFixture redis) : RedisFaultSuite(redis);

/// <summary>Rules 21 and 23 where only Redis can break them, on a real three-master Redis Cluster.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterFaultTests(RedisClusterFixture cluster) : RedisFaultSuite(cluster);

/// <summary>Rules 21 and 23 where only Redis can break them: batched scripts, lost definitions, consumer groups.</summary>
public abstract class RedisFaultSuite(IRedisDeployment redis) : IAsyncLifetime
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();
    private RedisBackend _backend = null!;

    public Task InitializeAsync()
    {
        _backend = new RedisBackend(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = _prefix }, NullLogger<RedisBackend>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task Rule21_a_corrupt_signature_in_a_batch_of_starts_affects_only_its_own_run()
    {
        await _backend.PrepareQueuesAsync(["task-a"], default);
        var good = await CreateAsync("task-a");
        await redis.Database.StringSetAsync($"{{{_prefix}}}:s:corrupt", "not a record");
        await _backend.DispatchAsync("task-a", new Envelope("corrupt", EnvelopeKind.Message, "{}"u8.ToArray()), default);
        await _backend.DispatchAsync("task-a", new Envelope(good.Id, EnvelopeKind.Message, "{}"u8.ToArray()), default);
        var read = (await _backend.ReadAsync(["task-a"], "w", 10, TimeSpan.Zero, default)).Cast<Delivery>().ToArray();

        // Both starts are sent together (group commit): the corrupt one must not fail the other.
        var starts = await Task.WhenAll(read.Select(d => _backend.StartAsync(d, TimeSpan.FromHours(1), default)));

        Assert.Equal(StartResult.Corrupt, starts[0].Result);
        Assert.Contains("not a MageFlow signature record", starts[0].Problem);
        Assert.Equal(StartResult.Started, starts[1].Result);
        Assert.Equal(SignatureStatus.Active, (await _backend.GetSignatureAsync(good.Id, default))!.Status);
    }

    [Fact]
    public async Task Rule18_keep_alive_never_takes_back_an_entry_another_worker_took_over()
    {
        await _backend.PrepareQueuesAsync(["task-a"], default);
        var signature = await CreateAsync("task-a");
        await _backend.DispatchAsync("task-a", new Envelope(signature.Id, EnvelopeKind.Message, "{}"u8.ToArray()), default);
        var held = Assert.Single(await _backend.ReadAsync(["task-a"], "frozen", 10, TimeSpan.Zero, default));
        Assert.Single(await _backend.ReclaimAsync(["task-a"], "rescuer", TimeSpan.Zero, 10, default));

        // The frozen worker wakes up and keeps alive what it believes it still holds.
        await _backend.KeepAliveAsync([held], "frozen", TimeSpan.FromHours(1), default);

        var pending = await redis.Database.StreamPendingMessagesAsync($"{{{_prefix}}}:q:task-a", RedisLayout.ConsumerGroup, 10, RedisValue.Null);
        Assert.Equal("rescuer", (string?)Assert.Single(pending).ConsumerName);
    }

    [Fact]
    public async Task Rule21_a_signature_with_ten_thousand_kwargs_is_stored_beside_others_of_its_batch()
    {
        var many = Enumerable.Range(0, 10_000).Select(i => new KeyValuePair<string, byte[]>($"k{i}", Encoding.UTF8.GetBytes(i.ToString()))).ToArray();
        var created = await Task.WhenAll(
            CreateAsync("task-a", many),
            CreateAsync("task-a"),
            CreateAsync("task-a"));

        foreach (var signature in created)
            Assert.Equal(signature.Kwargs.Count, (await _backend.GetSignatureAsync(signature.Id, default))!.Kwargs.Count);
    }

    [Fact]
    public async Task Rule21_a_signature_whose_key_holds_other_data_fails_only_its_own_signing_and_leaves_that_data_alone()
    {
        SignatureRecord Signature() => new(SignatureRecord.NewId(), "task-a", "Demo", [], [], [], SignatureStatus.Pending, SignatureStatus.Pending, "r", DateTimeOffset.UtcNow, 0);
        var overString = Signature();
        var overHash = Signature();
        await redis.Database.StringSetAsync($"{{{_prefix}}}:s:{overString.Id}", "not MageFlow's");
        await redis.Database.HashSetAsync($"{{{_prefix}}}:s:{overHash.Id}", "owner", "someone else");

        var failing = new[] { _backend.CreateSignatureAsync(overString, TimeSpan.FromHours(1), default), _backend.CreateSignatureAsync(overHash, TimeSpan.FromHours(1), default) };
        var others = new[] { CreateAsync("task-a"), CreateAsync("task-a") };

        Assert.Contains(overString.Id, (await Assert.ThrowsAsync<InvalidDataException>(() => failing[0])).Message);
        Assert.Contains(overHash.Id, (await Assert.ThrowsAsync<InvalidDataException>(() => failing[1])).Message);
        foreach (var other in others) Assert.NotNull(await _backend.GetSignatureAsync((await other).Id, default));
        Assert.Equal("not MageFlow's", (string?)await redis.Database.StringGetAsync($"{{{_prefix}}}:s:{overString.Id}"));
        Assert.Equal("someone else", (string?)await redis.Database.HashGetAsync($"{{{_prefix}}}:s:{overHash.Id}", "owner"));
    }

    [Fact]
    public async Task Rule21_a_callback_id_that_cannot_be_stored_fails_only_its_own_signing()
    {
        var bad = new SignatureRecord(SignatureRecord.NewId(), "task-a", "Demo", [], ["a,b"], [], SignatureStatus.Pending, SignatureStatus.Pending, "r", DateTimeOffset.UtcNow, 0);
        var good = CreateAsync("task-a");

        await Assert.ThrowsAsync<ArgumentException>(() => _backend.CreateSignatureAsync(bad, TimeSpan.FromHours(1), default));
        Assert.NotNull(await _backend.GetSignatureAsync((await good).Id, default));
    }

    [Fact]
    public async Task Rule23_workers_publish_their_definitions_again_after_Redis_lost_them()
    {
        var shop = new Shop();
        await using var cluster = await TestCluster.StartAsync(UseRedis, o => { }, workers: 0);
        await using var workers = await TestCluster.StartAsync(UseRedis, shop.Register, workers: 1, worker: o => o.MaintenanceInterval = TimeSpan.FromMilliseconds(200));
        await cluster.Client.AsignAsync(Shop.ProcessOrder); // published at start

        await redis.Database.KeyDeleteAsync($"{{{_prefix}}}:tasks");
        await Assert.ThrowsAsync<UnknownTaskException>(() => cluster.Client.AsignAsync(Shop.ProcessOrder));

        await Recorder.WaitUntilAsync(async () => await redis.Database.KeyExistsAsync($"{{{_prefix}}}:tasks"), "the definitions are published again");
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder);
        Assert.Equal(Shop.ProcessOrder, order.TaskName);
    }

    [Fact]
    public async Task Rule23_a_stopped_worker_leaves_the_consumer_groups_and_a_killed_ones_consumer_is_removed_later()
    {
        var shop = new Shop();
        await using var cluster = await TestCluster.StartAsync(UseRedis, shop.Register, workers: 0);
        var queue = $"{{{_prefix}}}:q:{Shop.ProcessOrder}";
        // A consumer left behind by a worker that died: it holds nothing and has been idle since.
        await redis.Database.StreamCreateConsumerGroupAsync(queue, RedisLayout.ConsumerGroup, "0", createStream: true);
        await redis.Database.ExecuteAsync("XGROUP", "CREATECONSUMER", queue, RedisLayout.ConsumerGroup, "dead-worker");
        var worker = await cluster.StartWorkerAsync(o =>
        {
            o.ConsumerName = "live-worker";
            o.VisibilityTimeout = TimeSpan.FromMilliseconds(300);
            o.MaintenanceInterval = TimeSpan.FromMilliseconds(200);
        });
        await (await cluster.Client.AsignAsync(Shop.ProcessOrder)).RunAsync(new OrderMessage("alive", 1m));
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);

        await Recorder.WaitUntilAsync(async () => !(await ConsumersAsync(queue)).Contains("dead-worker"), "the dead worker's consumer is removed");
        // Removing consumers that hold nothing is safe for live ones too: the next delivery recreates them.
        await (await cluster.Client.AsignAsync(Shop.ProcessOrder)).RunAsync(new OrderMessage("still-served", 1m));
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 2);
        Assert.Contains("live-worker", await ConsumersAsync(queue));

        await cluster.StopAsync(worker);
        Assert.DoesNotContain("live-worker", await ConsumersAsync(queue));
    }

    [Theory]
    [InlineData("# Server\r\nredis_version:6.0.9\r\n# Memory\r\nmaxmemory_policy:allkeys-lru\r\n", "6.0.9", "allkeys-lru")]
    [InlineData("redis_version:7.0.15\r\nredis_mode:cluster\r\nmaxmemory_policy:noeviction\r\n", "7.0.15", "noeviction")]
    [InlineData("# Server\r\nredis_mode:standalone\r\n", null, null)]
    public void Startup_reads_the_server_version_and_eviction_policy_from_INFO(string info, string? version, string? policy)
    {
        var parsed = RedisBackend.ParseServerInfo(info);
        Assert.Equal(version, parsed.Version?.ToString());
        Assert.Equal(policy, parsed.Policy);
    }

    [Fact]
    public async Task Startup_warns_when_Redis_may_evict_keys()
    {
        using var sink = new BadInput.LogSink();
        using var logging = LoggerFactory.Create(b => b.AddProvider(sink));
        var policy = (string?)(await redis.ServerOfStore(_prefix).ConfigGetAsync("maxmemory-policy")).Single().Value;
        await redis.ServerOfStore(_prefix).ConfigSetAsync("maxmemory-policy", "allkeys-lru");
        try
        {
            await using var backend = new RedisBackend(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = _prefix }, logging.CreateLogger<RedisBackend>());
            await backend.GetSignatureAsync("any", default); // connects

            Assert.True(sink.Logged(LogLevel.Warning, "maxmemory-policy allkeys-lru"), string.Join("\n", sink.Entries.Select(e => e.Message)));
        }
        finally
        {
            await redis.ServerOfStore(_prefix).ConfigSetAsync("maxmemory-policy", policy ?? "noeviction");
        }

        // With noeviction (the fixture's default) there is nothing to warn about.
        using var quiet = new BadInput.LogSink();
        using var quietLogging = LoggerFactory.Create(b => b.AddProvider(quiet));
        await using var calm = new RedisBackend(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = _prefix }, quietLogging.CreateLogger<RedisBackend>());
        await calm.GetSignatureAsync("any", default);
        Assert.True(quiet.Logged(LogLevel.Information, "Connected to Redis"));
        Assert.False(quiet.Logged(LogLevel.Warning, "maxmemory-policy"));
    }

    private void UseRedis(MageFlowOptions options) => options.UseRedis(redis.Configuration, r => r.KeyPrefix = _prefix);

    private async Task<string[]> ConsumersAsync(string queue) =>
        (await redis.Database.StreamConsumerInfoAsync(queue, RedisLayout.ConsumerGroup)).Select(c => c.Name).ToArray();

    private async Task<SignatureRecord> CreateAsync(string taskName, KeyValuePair<string, byte[]>[]? kwargs = null)
    {
        var signature = new SignatureRecord(SignatureRecord.NewId(), taskName, "Demo." + taskName, kwargs ?? [], [], [],
            SignatureStatus.Pending, SignatureStatus.Pending, "mageflow_results", DateTimeOffset.UtcNow, 0);
        await _backend.CreateSignatureAsync(signature, TimeSpan.FromHours(1), default);
        return signature;
    }
}
