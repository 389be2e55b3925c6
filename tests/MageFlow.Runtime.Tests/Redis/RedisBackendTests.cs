using System.Text;
using MageFlow.Backends;
using MageFlow.Backends.Redis;
using MageFlow.Runtime.Tests.Infrastructure;
using MageFlow.Signatures;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace MageFlow.Runtime.Tests.Redis;

/// <summary>The Redis backend against a real redis-server: the shared suite, and memory and connection failures.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisBackendTests(RedisServerFixture redis, ITestOutputHelper output) : RedisBackendSuite(redis)
{
    [Fact]
    public async Task A_connection_failure_names_the_configuration_without_the_password()
    {
        var unused = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        unused.Start();
        var port = ((System.Net.IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();
        await using var backend = new RedisBackend(
            new RedisBackendOptions { Configuration = $"127.0.0.1:{port},password=s3cret,connectTimeout=300,connectRetry=1" },
            NullLogger<RedisBackend>.Instance);

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => backend.GetSignatureAsync("x", default));

        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("RedisBackendOptions.Configuration", error.Message);
        Assert.DoesNotContain("s3cret", error.Message);
    }

    // On a redis-server of its own: used_memory also counts the keyspace's hashtable, which doubles when the keys
    // crossed a power of two — on a server other tests share, where that happens depends on what they left there.
    [Fact]
    public async Task A_pending_signature_with_two_small_kwargs_takes_at_most_400_bytes()
    {
        const int count = 1000;
        var own = new RedisServerFixture();
        await own.InitializeAsync();
        try
        {
            const string prefix = "mem";
            await using var backend = new RedisBackend(
                new RedisBackendOptions { Configuration = own.Configuration, KeyPrefix = prefix }, NullLogger<RedisBackend>.Instance);
            var ids = Enumerable.Range(0, count).Select(_ => SignatureRecord.NewId()).ToArray();
            await backend.CreateSignatureAsync(Pending(SignatureRecord.NewId()), ActiveTtl, default); // connection and layout record out of the measurement
            var before = await UsedMemoryAsync(own.Database);

            await Task.WhenAll(ids.Select(id => backend.CreateSignatureAsync(Pending(id), ActiveTtl, default)));

            var perSignatureDelta = (await UsedMemoryAsync(own.Database) - before) / (double)count;
            long usage = 0;
            foreach (var id in ids) usage += (long)(await own.Database.ExecuteAsync("MEMORY", "USAGE", $"{{{prefix}}}:s:{id}", "SAMPLES", "0"));
            output.WriteLine($"{count} pending signatures: used_memory delta {perSignatureDelta:F0} B each; MEMORY USAGE {usage / (double)count:F0} B each");

            Assert.True(perSignatureDelta <= 400, $"used_memory grew by {perSignatureDelta:F0} B per pending signature (target ≤ 400 B)");
        }
        finally
        {
            await own.DisposeAsync();
        }

        static SignatureRecord Pending(string id) => new(
            id, "send-welcome-email", "Demo.Messages.SendWelcomeEmail",
            [Kwarg("userId", "123456"), Kwarg("locale", "\"en-GB\"")],
            [SignatureRecord.NewId()], [],
            SignatureStatus.Pending, SignatureStatus.Pending, "mageflow_results", DateTimeOffset.UtcNow, 0);
    }

    private static async Task<long> UsedMemoryAsync(IDatabase db)
    {
        var info = (string?)await db.ExecuteAsync("INFO", "memory") ?? "";
        var line = info.Split('\n').First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
        return long.Parse(line["used_memory:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>The Redis backend against a real three-master Redis Cluster: the shared suite; the store is one slot.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterBackendTests(RedisClusterFixture cluster) : RedisBackendSuite(cluster);

/// <summary>The Redis backend's storage, transitions and delivery, whatever the Redis deployment.</summary>
public abstract class RedisBackendSuite(IRedisDeployment redis) : IAsyncLifetime
{
    private const string Consumer = "worker-a";
    private const string OtherConsumer = "worker-b";
    private protected static readonly TimeSpan ActiveTtl = TimeSpan.FromHours(24);
    private static readonly TimeSpan NoWait = TimeSpan.Zero;

    private readonly string _prefix = RedisServerFixture.NewPrefix();
    private RedisBackend _backend = null!;

    private protected IDatabase Db => redis.Database;

    private protected RedisBackend Backend => _backend;

    public Task InitializeAsync()
    {
        _backend = NewBackend();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    // ---- signatures ----

    [Fact]
    public async Task Create_then_get_round_trips_every_field()
    {
        var created = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        var signature = new SignatureRecord(
            SignatureRecord.NewId(), "send-email", "Demo.SendEmail",
            [Kwarg("to", "\"a@b.c\""), Kwarg("retry", "{\"max\":3}")],
            ["succ1", "succ2"], ["err1"],
            SignatureStatus.Suspended, SignatureStatus.Active, "mageflow_results", created, 2);

        await _backend.CreateSignatureAsync(signature, ActiveTtl, default);
        var read = await _backend.GetSignatureAsync(signature.Id, default);

        Assert.NotNull(read);
        Assert.Equal(signature.Id, read.Id);
        Assert.Equal("send-email", read.TaskName);
        Assert.Equal("Demo.SendEmail", read.MessageTypeId);
        Assert.Equal(["to", "retry"], read.Kwargs.Select(k => k.Key));
        Assert.Equal(["\"a@b.c\"", "{\"max\":3}"], read.Kwargs.Select(k => Encoding.UTF8.GetString(k.Value)));
        Assert.Equal(["succ1", "succ2"], read.SuccessCallbackIds);
        Assert.Equal(["err1"], read.ErrorCallbackIds);
        Assert.Equal(SignatureStatus.Suspended, read.Status);
        Assert.Equal(SignatureStatus.Active, read.LastStatus);
        Assert.Equal("mageflow_results", read.ReturnField);
        Assert.Equal(created, read.CreatedAt);
        Assert.Equal(2, read.Attempts);

        var ttl = await Db.KeyTimeToLiveAsync(SignatureKey(signature.Id));
        Assert.InRange(ttl!.Value, ActiveTtl - TimeSpan.FromMinutes(1), ActiveTtl);
        Assert.Null(await _backend.GetSignatureAsync("no-such-id", default));
    }

    [Fact]
    public async Task Update_kwargs_replaces_the_named_keys_only_and_is_false_for_a_missing_signature()
    {
        var signature = await CreateAsync("task-a", kwargs: [Kwarg("keep", "1"), Kwarg("change", "2"), Kwarg("Cased", "3")]);

        Assert.True(await _backend.UpdateKwargsAsync(signature.Id, [Kwarg("change", "20"), Kwarg("added", "\"x\""), Kwarg("cased", "30")], default));

        var read = (await _backend.GetSignatureAsync(signature.Id, default))!;
        var kwargs = read.Kwargs.ToDictionary(k => k.Key, k => Encoding.UTF8.GetString(k.Value));
        Assert.Equal(new Dictionary<string, string> { ["keep"] = "1", ["change"] = "20", ["added"] = "\"x\"", ["cased"] = "30" }, kwargs);
        Assert.False(await _backend.UpdateKwargsAsync("no-such-id", [Kwarg("a", "1")], default));
        Assert.False(await Db.KeyExistsAsync(SignatureKey("no-such-id")));
    }

    [Fact]
    public async Task Lifecycle_records_the_previous_status_and_reports_a_missing_signature()
    {
        var signature = await CreateAsync("task-a");
        var lifetimes = new SignatureLifetimes(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));

        Assert.Equal(new LifecycleChange(true, SignatureStatus.Pending, SignatureStatus.Suspended),
            await _backend.ChangeLifecycleAsync(signature.Id, LifecycleAction.Suspend, lifetimes, default));

        var read = (await _backend.GetSignatureAsync(signature.Id, default))!;
        Assert.Equal(SignatureStatus.Suspended, read.Status);
        Assert.Equal(SignatureStatus.Pending, read.LastStatus);
        Assert.False((await _backend.ChangeLifecycleAsync("no-such-id", LifecycleAction.Cancel, lifetimes, default)).Found);
    }

    [Fact]
    public async Task Task_definitions_round_trip_and_never_expire()
    {
        await _backend.RegisterTaskDefinitionsAsync([new TaskDefinition("a", "Demo.A", "mageflow_results", 3), new TaskDefinition("b", "Demo.B", "total", 0)], default);

        Assert.Equal(new TaskDefinition("a", "Demo.A", "mageflow_results", 3), await _backend.GetTaskDefinitionAsync("a", default));
        Assert.Equal(new TaskDefinition("b", "Demo.B", "total", 0), await _backend.GetTaskDefinitionAsync("b", default));
        Assert.Null(await _backend.GetTaskDefinitionAsync("c", default));
        Assert.Null(await Db.KeyTimeToLiveAsync($"{{{_prefix}}}:tasks"));
    }

    // ---- start ----

    [Fact]
    public async Task Start_makes_the_signature_active_counts_the_attempt_and_keeps_the_entry_pending()
    {
        var signature = await CreateAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);

        var first = await _backend.StartAsync(delivery, ActiveTtl, default);
        var afterFirst = (await _backend.GetSignatureAsync(signature.Id, default))!;
        var second = await _backend.StartAsync(delivery, ActiveTtl, default);
        var afterSecond = (await _backend.GetSignatureAsync(signature.Id, default))!;

        Assert.Equal(StartResult.Started, first.Result);
        Assert.Equal(1, first.Run!.Attempts);
        Assert.Equal((SignatureStatus.Active, SignatureStatus.Pending, 1), (afterFirst.Status, afterFirst.LastStatus, afterFirst.Attempts));
        Assert.Equal(StartResult.Started, second.Result);
        Assert.Equal(2, second.Run!.Attempts);
        // Unchanged status: the last status is kept.
        Assert.Equal((SignatureStatus.Active, SignatureStatus.Pending, 2), (afterSecond.Status, afterSecond.LastStatus, afterSecond.Attempts));
        Assert.Equal(1, await PendingCountAsync("task-a"));
    }

    [Fact]
    public async Task A_queued_run_is_read_back_with_every_field_it_was_queued_with_by_either_read()
    {
        await PrepareAsync("task-a");
        var signature = await CreateAsync("task-a");
        var full = new Envelope(signature.Id, EnvelopeKind.ErrorInput, Json("{\"base\":1}"), Json("{\"call\":2}"),
            new TaskFailure("failed-id", "task-f", "Boom: é") { Kind = TaskFailureKind.TimedOut }, Json("{\"container\":3}"), Json("{\"outer\":4}"), "00-trace-span-01");
        var bare = new Envelope(signature.Id, EnvelopeKind.Result, Json("42"));

        await _backend.DispatchAsync("task-a", full, default);
        await _backend.DispatchAsync("task-a", bare, default);
        var read = (await _backend.ReadAsync(["task-a"], Consumer, 1, NoWait, default)).Select(e => D(e).Envelope);
        var readAndStarted = (await _backend.ReadAndStartAsync(["task-a"], Consumer, 1, NoWait, ActiveTtl, default)).Select(t => D(t.Entry).Envelope);

        Assert.Equal([Fields(full), Fields(bare)], read.Concat(readAndStarted).Select(Fields));

        static string Fields(Envelope e) => string.Join(" | ", e.SignatureId, e.Kind, Text(e.Payload), Text(e.CallTimeKwargs), e.Failure,
            Text(e.ContainerKwargs), Text(e.OuterBase), e.TraceParent ?? "(no trace)");
    }

    [Fact]
    public async Task Start_hands_the_run_every_stored_kwarg_and_callback_whatever_their_sizes()
    {
        // Sizes on each side of the string headers of the start reply's packing (31/32, 255/256, 65535/65536 bytes)
        // and more strings than a small array holds (16).
        int[] sizes = [0, 31, 32, 255, 256, 65_535, 65_536, 1, 2, 3, 4, 5];
        var kwargs = sizes.Select((size, i) => Kwarg($"kw{i}-é", "\"" + new string('x', Math.Max(0, size - 2)) + "\"")).ToArray();
        kwargs[0] = new("empty", []);
        var created = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        var signature = new SignatureRecord(SignatureRecord.NewId(), "task-a", "Demo.Task-A", kwargs, ["succ-1", "succ-2"], ["err-1"],
            SignatureStatus.Pending, SignatureStatus.Pending, "total", created, 0);
        await _backend.CreateSignatureAsync(signature, ActiveTtl, default);
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);

        var started = (await _backend.StartAsync(delivery, ActiveTtl, default)).Run!;

        Assert.Equal((signature.Id, "task-a", "total", 1), (started.Id, started.TaskName, started.ReturnField, started.Attempts));
        Assert.Equal((2, 1), (started.SuccessCallbacks, started.ErrorCallbacks));
        Assert.Equal(kwargs.ToDictionary(k => k.Key, k => Convert.ToHexString(k.Value)), started.Kwargs.ToDictionary(k => k.Key, k => Convert.ToHexString(k.Value)));
    }

    [Fact]
    public async Task Trimming_removes_finished_entries_only_never_a_pending_or_undelivered_one()
    {
        await PrepareAsync("task-a");
        var signatures = new[] { await CreateAsync("task-a"), await CreateAsync("task-a"), await CreateAsync("task-a") };
        foreach (var signature in signatures)
            await _backend.DispatchAsync("task-a", new Envelope(signature.Id, EnvelopeKind.Message, Json("{}")), default);
        var read = (await _backend.ReadAsync(["task-a"], Consumer, 2, NoWait, default)).Select(D).ToArray();
        Assert.Equal(2, read.Length);
        var lifetimes = Lifetimes(TimeSpan.FromMinutes(5));
        await _backend.StartAsync(read[0], ActiveTtl, default);
        await _backend.CompleteAsync(read[0], Json("1"), lifetimes, default);

        // The first is finished; the second is pending (read, not finished); the third was never delivered.
        Assert.Equal(1, await _backend.TrimQueuesAsync(["task-a"], default));
        Assert.Equal(2, await Db.StreamLengthAsync(QueueKey("task-a")));

        await _backend.StartAsync(read[1], ActiveTtl, default);
        await _backend.CompleteAsync(read[1], Json("1"), lifetimes, default);
        Assert.Equal(1, await _backend.TrimQueuesAsync(["task-a"], default));
        Assert.Equal(0, await _backend.TrimQueuesAsync(["task-a"], default));

        var third = D(Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default)));
        Assert.Equal(signatures[2].Id, third.Envelope.SignatureId);
        Assert.Equal(StartResult.Started, (await _backend.StartAsync(third, ActiveTtl, default)).Result);
        Assert.Equal(0, await _backend.TrimQueuesAsync(["task-a", "never-prepared"], default));
    }

    [Fact]
    public async Task Start_on_a_missing_signature_acknowledges_the_entry_and_returns_missing()
    {
        await PrepareAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", "gone-id");

        var outcome = await _backend.StartAsync(delivery, ActiveTtl, default);

        Assert.Equal(StartResult.Missing, outcome.Result);
        Assert.Null(outcome.Run);
        Assert.Equal(0, await PendingCountAsync("task-a"));
        await _backend.TrimQueuesAsync(["task-a"], default);
        Assert.Equal(0, await Db.StreamLengthAsync(QueueKey("task-a")));
    }

    [Fact]
    public async Task Start_on_a_done_signature_returns_not_runnable_every_time()
    {
        var signature = await CreateAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);
        Assert.True((await _backend.CompleteAsync(delivery, Json("1"), Lifetimes(TimeSpan.FromMinutes(5)), default)).Applied);

        foreach (var _ in new[] { 1, 2 })
        {
            var again = await DispatchAndReadAsync("task-a", signature.Id);
            var outcome = await _backend.StartAsync(again, ActiveTtl, default);
            Assert.Equal(StartResult.NotRunnable, outcome.Result);
            Assert.Equal(SignatureStatus.Done, outcome.FoundStatus);
            Assert.Equal(1, (await _backend.GetSignatureAsync(signature.Id, default))!.Attempts);
        }
        Assert.Equal(0, await PendingCountAsync("task-a"));
    }

    // ---- complete / fail ----

    [Fact]
    public async Task Complete_on_a_suspended_signature_is_reported_saved_and_queues_nothing_until_resume()
    {
        await PrepareAsync("task-a", "on-ok");
        var callback = await CreateAsync("on-ok");
        var signature = await CreateAsync("task-a", success: [callback.Id]);
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);
        await _backend.ChangeLifecycleAsync(signature.Id, LifecycleAction.Suspend, Lifetimes(TimeSpan.FromMinutes(5)), default);

        var completed = await _backend.CompleteAsync(delivery, Json("{\"n\":1}"), Lifetimes(TimeSpan.FromMinutes(5)), default);

        Assert.Equal((false, true), (completed.Applied, completed.Saved));
        Assert.True((await _backend.GetSignatureAsync(signature.Id, default))!.HasSavedOutcome);
        Assert.Empty(await _backend.ReadAsync(["on-ok"], Consumer, 10, NoWait, default));
    }

    [Fact]
    public async Task Complete_dispatches_each_success_callback_once_to_its_own_stream_and_a_second_complete_is_not_applied()
    {
        await PrepareAsync("task-a", "on-ok-1", "on-ok-2", "on-error");
        var ok1 = await CreateAsync("on-ok-1");
        var ok2 = await CreateAsync("on-ok-2");
        var error = await CreateAsync("on-error");
        var signature = await CreateAsync("task-a", success: [ok1.Id, ok2.Id, "gone-callback"], errors: [error.Id]);
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);

        var first = await _backend.CompleteAsync(delivery, Json("{\"n\":42}"), Lifetimes(TimeSpan.FromMinutes(5)), default);
        var duplicate = await _backend.CompleteAsync(delivery, Json("{\"n\":43}"), Lifetimes(TimeSpan.FromMinutes(5)), default);

        Assert.True(first.Applied);
        Assert.Equal(["gone-callback"], first.MissingCallbackIds);
        Assert.False(duplicate.Applied);
        var done = (await _backend.GetSignatureAsync(signature.Id, default))!;
        Assert.Equal(SignatureStatus.Done, done.Status);
        Assert.Equal(SignatureStatus.Active, done.LastStatus);

        var callbacks1 = await _backend.ReadAsync(["on-ok-1"], Consumer, 10, NoWait, default);
        var callbacks2 = await _backend.ReadAsync(["on-ok-2"], Consumer, 10, NoWait, default);
        var envelope1 = D(Assert.Single(callbacks1)).Envelope;
        var envelope2 = D(Assert.Single(callbacks2)).Envelope;
        Assert.Equal((ok1.Id, EnvelopeKind.Result, "{\"n\":42}"), (envelope1.SignatureId, envelope1.Kind, Text(envelope1.Payload)));
        Assert.Equal((ok2.Id, EnvelopeKind.Result, "{\"n\":42}"), (envelope2.SignatureId, envelope2.Kind, Text(envelope2.Payload)));
        Assert.Empty(await _backend.ReadAsync(["on-error"], Consumer, 10, NoWait, default));
        Assert.Equal(0, await PendingCountAsync("task-a"));
        await _backend.TrimQueuesAsync(["task-a"], default);
        Assert.Equal(0, await Db.StreamLengthAsync(QueueKey("task-a")));
        // Released to the done TTL: the error callback and the signature; dispatched callbacks keep their active TTL.
        Assert.True((await Db.KeyTimeToLiveAsync(SignatureKey(error.Id)))!.Value <= TimeSpan.FromMinutes(5));
        Assert.True((await Db.KeyTimeToLiveAsync(SignatureKey(signature.Id)))!.Value <= TimeSpan.FromMinutes(5));
        Assert.True((await Db.KeyTimeToLiveAsync(SignatureKey(ok1.Id)))!.Value > TimeSpan.FromHours(23));
    }

    [Fact]
    public async Task Complete_queues_a_callback_whose_task_was_known_at_signing_and_reports_one_that_expired_as_missing()
    {
        await PrepareAsync("task-a", "on-ok", "on-error");
        var ok = await CreateAsync("on-ok");
        var expired = await CreateAsync("on-ok");
        var error = await CreateAsync("on-error");
        var signature = new SignatureRecord(SignatureRecord.NewId(), "task-a", "Demo.task-a", [], [ok.Id, expired.Id], [error.Id],
            SignatureStatus.Pending, SignatureStatus.Pending, "mageflow_results", DateTimeOffset.UtcNow, 0)
        {
            CallbackTasks = new Dictionary<string, string> { [ok.Id] = "on-ok", [expired.Id] = "on-ok", [error.Id] = "on-error" },
        };
        await _backend.CreateSignatureAsync(signature, ActiveTtl, default);
        await Db.KeyDeleteAsync(SignatureKey(expired.Id));
        await Db.KeyExpireAsync(SignatureKey(ok.Id), TimeSpan.FromMinutes(1));
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);

        var completed = await _backend.CompleteAsync(delivery, Json("{\"n\":7}"), Lifetimes(TimeSpan.FromMinutes(5)), default);

        Assert.True(completed.Applied);
        Assert.Equal([expired.Id], completed.MissingCallbackIds);
        var queued = D(Assert.Single(await _backend.ReadAsync(["on-ok"], Consumer, 10, NoWait, default))).Envelope;
        Assert.Equal((ok.Id, EnvelopeKind.Result, "{\"n\":7}"), (queued.SignatureId, queued.Kind, Text(queued.Payload)));
        Assert.False(await Db.KeyExistsAsync(SignatureKey(expired.Id)), "a missing callback was recreated");
        Assert.Empty(await _backend.ReadAsync(["on-error"], Consumer, 10, NoWait, default));
        // Queued, so kept for the active TTL again (rule 19), as a callback read before queueing is.
        Assert.True((await Db.KeyTimeToLiveAsync(SignatureKey(ok.Id)))!.Value > TimeSpan.FromHours(23));
    }

    [Fact]
    public async Task Complete_and_take_starts_the_callback_it_queued_in_the_same_step_for_the_offered_slot()
    {
        await PrepareAsync("task-a", "on-ok");
        var callback = await CreateAsync("on-ok", kwargs: [Kwarg("note", "\"kept\"")]);
        var signature = await CreateAsync("task-a", success: [callback.Id]);
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);

        var completed = await _backend.CompleteAndTakeAsync(delivery, Json("{\"n\":7}"), Lifetimes(TimeSpan.FromMinutes(5)),
            new SlotOffer(["task-a", "on-ok"], Consumer, ActiveTtl), default);
        var next = completed.Next;

        Assert.True(completed.Applied);
        Assert.NotNull(next);
        var taken = D(next.Value.Entry);
        Assert.Equal(("on-ok", callback.Id, EnvelopeKind.Result, "{\"n\":7}"),
            (taken.TaskName, taken.Envelope.SignatureId, taken.Envelope.Kind, Text(taken.Envelope.Payload)));
        var started = next.Value.Started!;
        Assert.Equal(StartResult.Started, started.Result);
        Assert.Equal("\"kept\"", Text(Assert.Single(started.Run!.Kwargs).Value));
        Assert.Equal(SignatureStatus.Active, (await _backend.GetSignatureAsync(callback.Id, default))!.Status);
        // Taken for this consumer (pending, so a crash leaves it for reclaim), and not delivered again.
        Assert.Equal(1, await PendingCountAsync("on-ok"));
        Assert.Empty(await _backend.ReadAsync(["on-ok"], Consumer, 10, NoWait, default));
        Assert.Equal(SignatureStatus.Done, (await _backend.GetSignatureAsync(signature.Id, default))!.Status);
    }

    [Fact]
    public async Task Complete_and_take_takes_nothing_while_entries_read_ahead_for_the_consumer_wait_they_go_first()
    {
        await PrepareAsync("task-a", "task-b");
        var signature = await CreateAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);
        // One entry in each queue, read with room for one: COUNT applies per queue, so the other is kept for this consumer.
        var first = new[] { await CreateAsync("task-a"), await CreateAsync("task-b") };
        await _backend.DispatchAsync("task-a", new Envelope(first[0].Id, EnvelopeKind.Message, Json("{}")), default);
        await _backend.DispatchAsync("task-b", new Envelope(first[1].Id, EnvelopeKind.Message, Json("{}")), default);
        var handedOut = D(Assert.Single(await _backend.ReadAsync(["task-a", "task-b"], Consumer, 1, NoWait, default))).Envelope.SignatureId;
        var keptAhead = first.Single(f => f.Id != handedOut).Id;
        // And one more waits in a queue, which a take would start.
        var waiting = await CreateAsync("task-b");
        await _backend.DispatchAsync("task-b", new Envelope(waiting.Id, EnvelopeKind.Message, Json("{}")), default);

        var completed = await _backend.CompleteAndTakeAsync(delivery, Json("1"), Lifetimes(TimeSpan.FromMinutes(5)),
            new SlotOffer(["task-a", "task-b"], Consumer, ActiveTtl), default);

        Assert.True(completed.Applied);
        Assert.Null(completed.Next);
        Assert.Equal(SignatureStatus.Pending, (await _backend.GetSignatureAsync(waiting.Id, default))!.Status);
        // The entry read ahead goes first, through the worker's read; the waiting one after it.
        Assert.Equal(keptAhead, D(Assert.Single(await _backend.ReadAsync(["task-a", "task-b"], Consumer, 1, NoWait, default))).Envelope.SignatureId);
        Assert.Equal(waiting.Id, D(Assert.Single(await _backend.ReadAsync(["task-a", "task-b"], Consumer, 1, NoWait, default))).Envelope.SignatureId);
    }

    [Fact]
    public async Task Complete_and_take_takes_the_oldest_waiting_entry_one_per_offered_slot_and_none_for_a_completion_that_failed()
    {
        await PrepareAsync("task-a", "task-b");
        var waiting = new[] { await CreateAsync("task-b"), await CreateAsync("task-b") };
        var signature = await CreateAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);
        foreach (var w in waiting) await _backend.DispatchAsync("task-b", new Envelope(w.Id, EnvelopeKind.Message, Json("{}")), default);
        var offer = new SlotOffer(["task-a", "task-b"], Consumer, ActiveTtl);

        var next = (await _backend.CompleteAndTakeAsync(delivery, Json("1"), Lifetimes(TimeSpan.FromMinutes(5)), offer, default)).Next;

        Assert.Equal(waiting[0].Id, D(next!.Value.Entry).Envelope.SignatureId);
        Assert.Equal(StartResult.Started, next.Value.Started!.Result);
        Assert.Equal(SignatureStatus.Pending, (await _backend.GetSignatureAsync(waiting[1].Id, default))!.Status);

        // A completion that fails in Redis (its key is not a record) has no slot to give: nothing is taken for it.
        var broken = await CreateAsync("task-a");
        var brokenRun = await DispatchAndReadAsync("task-a", broken.Id);
        await _backend.StartAsync(brokenRun, ActiveTtl, default);
        await Db.KeyDeleteAsync(SignatureKey(broken.Id));
        await Db.HashSetAsync(SignatureKey(broken.Id), "x", "1");
        await Assert.ThrowsAsync<InvalidDataException>(() =>
            _backend.CompleteAndTakeAsync(brokenRun, Json("1"), Lifetimes(TimeSpan.FromMinutes(5)), offer, default).AsTask());
        Assert.Equal(1, await PendingCountAsync("task-b")); // the first one only, taken above
        Assert.Equal(waiting[1].Id, D(Assert.Single(await _backend.ReadAsync(["task-b"], Consumer, 10, NoWait, default))).Envelope.SignatureId);
    }

    [Fact]
    public async Task Complete_of_a_signature_that_is_not_active_is_not_applied_but_acknowledges()
    {
        var signature = await CreateAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);

        var outcome = await _backend.CompleteAsync(delivery, Json("1"), Lifetimes(TimeSpan.FromMinutes(5)), default);

        Assert.False(outcome.Applied);
        Assert.Equal(SignatureStatus.Pending, (await _backend.GetSignatureAsync(signature.Id, default))!.Status);
        Assert.Equal(0, await PendingCountAsync("task-a"));
    }

    [Fact]
    public async Task Fail_dispatches_error_callbacks_with_the_failed_input_and_the_failure_once()
    {
        await PrepareAsync("task-a", "on-ok", "on-error");
        var ok = await CreateAsync("on-ok");
        var error = await CreateAsync("on-error");
        var signature = await CreateAsync("task-a", success: [ok.Id], errors: [error.Id]);
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);
        var failure = new TaskFailure(signature.Id, "task-a", "InvalidOperationException: boom");

        var first = await _backend.FailAsync(delivery, Json("{\"x\":1}"), failure, Lifetimes(TimeSpan.FromMinutes(5)), default);
        var duplicate = await _backend.FailAsync(delivery, Json("{\"x\":2}"), failure, Lifetimes(TimeSpan.FromMinutes(5)), default);

        Assert.True(first.Applied);
        Assert.Empty(first.MissingCallbackIds);
        Assert.False(duplicate.Applied);
        var failed = (await _backend.GetSignatureAsync(signature.Id, default))!;
        Assert.Equal((SignatureStatus.Failed, SignatureStatus.Active), (failed.Status, failed.LastStatus));
        var envelope = D(Assert.Single(await _backend.ReadAsync(["on-error"], Consumer, 10, NoWait, default))).Envelope;
        Assert.Equal((error.Id, EnvelopeKind.ErrorInput, "{\"x\":1}"), (envelope.SignatureId, envelope.Kind, Text(envelope.Payload)));
        Assert.Equal(failure, envelope.Failure);
        Assert.Empty(await _backend.ReadAsync(["on-ok"], Consumer, 10, NoWait, default));
        Assert.True((await Db.KeyTimeToLiveAsync(SignatureKey(ok.Id)))!.Value <= TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task Fail_is_allowed_from_pending()
    {
        var signature = await CreateAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);

        var outcome = await _backend.FailAsync(delivery, Json("{}"), new TaskFailure(signature.Id, "task-a", "bad input"), Lifetimes(TimeSpan.FromMinutes(5)), default);

        Assert.True(outcome.Applied);
        Assert.Equal(SignatureStatus.Failed, (await _backend.GetSignatureAsync(signature.Id, default))!.Status);
    }

    [Fact]
    public async Task Done_ttl_zero_deletes_the_signature_and_its_released_callbacks()
    {
        var error = await CreateAsync("on-error");
        var signature = await CreateAsync("task-a", errors: [error.Id]);
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);

        Assert.True((await _backend.CompleteAsync(delivery, Json("null"), Lifetimes(TimeSpan.Zero), default)).Applied);

        Assert.False(await Db.KeyExistsAsync(SignatureKey(signature.Id)));
        Assert.False(await Db.KeyExistsAsync(SignatureKey(error.Id)));
        Assert.Null(await _backend.GetSignatureAsync(signature.Id, default));
    }

    [Fact]
    public async Task A_positive_done_ttl_sets_that_ttl()
    {
        var signature = await CreateAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(delivery, ActiveTtl, default);

        await _backend.CompleteAsync(delivery, Json("1"), Lifetimes(TimeSpan.FromSeconds(30)), default);

        Assert.InRange((await Db.KeyTimeToLiveAsync(SignatureKey(signature.Id)))!.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
    }

    // ---- retries ----

    [Fact]
    public async Task A_run_another_worker_finished_is_neither_retried_nor_parked_by_its_first_worker()
    {
        // Worker A took the entry and stalled; worker B took it over and finished it. A's late retry or park must
        // not revive it: the entry is no longer pending, though it is still in the stream until the next trim.
        var signature = await CreateAsync("task-a");
        var taken = await DispatchAndReadAsync("task-a", signature.Id);
        await _backend.StartAsync(taken, ActiveTtl, default);
        var takenOver = D(Assert.Single(await _backend.ReclaimAsync(["task-a"], "worker-b", TimeSpan.Zero, 10, default)));
        Assert.Equal(StartResult.Started, (await _backend.StartAsync(takenOver, ActiveTtl, default)).Result);
        Assert.True((await _backend.CompleteAsync(takenOver, Json("1"), Lifetimes(TimeSpan.FromMinutes(5)), default)).Applied);
        Assert.Equal(1, await Db.StreamLengthAsync(QueueKey("task-a")));

        await _backend.RetryLaterAsync(taken, DateTimeOffset.UtcNow, ActiveTtl, default);
        await _backend.ParkAsync(taken, default);

        Assert.Equal(0, await Db.SortedSetLengthAsync($"{{{_prefix}}}:delayed"));
        Assert.Equal(0, await _backend.PromoteDueRetriesAsync(DateTimeOffset.UtcNow.AddMinutes(1), 10, default));
        var done = (await _backend.GetSignatureAsync(signature.Id, default))!;
        Assert.Equal((SignatureStatus.Done, 0), (done.Status, done.ParkedRuns));
        Assert.Empty(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));
    }

    [Fact]
    public async Task Retry_later_then_promote_moves_the_entry_back_after_its_due_time_and_not_before()
    {
        var signature = await CreateAsync("task-a");
        await PrepareAsync("task-a");
        await _backend.DispatchAsync("task-a", new Envelope(signature.Id, EnvelopeKind.Message, Json("{\"a\":1}"), Json("{\"w\":2}")), default);
        var delivery = Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));
        await _backend.StartAsync(D(delivery), ActiveTtl, default);
        var due = DateTimeOffset.UtcNow.AddMinutes(1);

        await _backend.RetryLaterAsync(D(delivery), due, ActiveTtl, default);

        Assert.Equal(0, await PendingCountAsync("task-a"));
        Assert.Equal(SignatureStatus.Active, (await _backend.GetSignatureAsync(signature.Id, default))!.Status);
        Assert.Equal(0, await _backend.PromoteDueRetriesAsync(due.AddMilliseconds(-1), 10, default));
        Assert.Empty(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));

        Assert.Equal(1, await _backend.PromoteDueRetriesAsync(due, 10, default));

        var retried = D(Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default))).Envelope;
        Assert.Equal((signature.Id, EnvelopeKind.Message, "{\"a\":1}", "{\"w\":2}"), (retried.SignatureId, retried.Kind, Text(retried.Payload), Text(retried.CallTimeKwargs)));
        Assert.Equal(0, await Db.SortedSetLengthAsync($"{{{_prefix}}}:delayed"));
        Assert.Equal(0, await _backend.PromoteDueRetriesAsync(due.AddHours(1), 10, default));
    }

    [Fact]
    public async Task Promote_moves_at_most_max_count_earliest_first()
    {
        await PrepareAsync("task-a");
        var now = DateTimeOffset.UtcNow;
        foreach (var (id, offset) in new[] { ("late", 3), ("early", 1), ("middle", 2) })
        {
            await _backend.DispatchAsync("task-a", new Envelope(id, EnvelopeKind.Message, Json("{}")), default);
            var delivery = Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));
            await _backend.RetryLaterAsync(D(delivery), now.AddSeconds(offset), ActiveTtl, default);
        }

        Assert.Equal(2, await _backend.PromoteDueRetriesAsync(now.AddSeconds(10), 2, default));

        var moved = await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default);
        Assert.Equal(["early", "middle"], moved.Select(d => D(d).Envelope.SignatureId));
    }

    // ---- delivery ----

    [Fact]
    public async Task Read_takes_entries_queued_before_the_group_existed_and_across_streams_at_most_max_count()
    {
        foreach (var task in new[] { "task-a", "task-b" })
            for (var i = 0; i < 3; i++)
                await _backend.DispatchAsync(task, new Envelope($"{task}-{i}", EnvelopeKind.Message, Json("{}")), default);
        await PrepareAsync("task-a", "task-b");

        var first = await _backend.ReadAsync(["task-a", "task-b"], Consumer, 4, NoWait, default);
        var second = await _backend.ReadAsync(["task-a", "task-b"], Consumer, 4, NoWait, default);
        var third = await _backend.ReadAsync(["task-a", "task-b"], Consumer, 4, NoWait, default);

        Assert.Equal(4, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Empty(third);
        var all = first.Concat(second).ToList();
        Assert.Equal(6, all.Select(d => D(d).Envelope.SignatureId).Distinct().Count());
        Assert.All(all, d => Assert.StartsWith(d.TaskName, D(d).Envelope.SignatureId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Read_waits_for_an_entry_and_returns_it_as_soon_as_it_arrives()
    {
        await PrepareAsync("task-a");
        var read = _backend.ReadAsync(["task-a"], Consumer, 10, TimeSpan.FromSeconds(5), default);
        await Task.Delay(200);
        Assert.False(read.IsCompleted);

        await using var producer = NewBackend();
        await producer.DispatchAsync("task-a", new Envelope("sig", EnvelopeKind.Message, Json("{}")), default);

        var delivered = await read.WaitAsync(TimeSpan.FromSeconds(4));
        Assert.Equal("sig", D(Assert.Single(delivered)).Envelope.SignatureId);
    }

    [Fact]
    public async Task Read_with_nothing_queued_returns_empty_after_the_wait_and_honours_cancellation()
    {
        await PrepareAsync("task-a");

        Assert.Empty(await _backend.ReadAsync(["task-a"], Consumer, 10, TimeSpan.FromMilliseconds(100), default));

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _backend.ReadAsync(["task-a"], Consumer, 10, TimeSpan.FromSeconds(3), cancel.Token));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_long_wait_is_capped_below_the_connection_timeout_and_the_connection_stays_usable()
    {
        await PrepareAsync("task-a");
        var started = DateTime.UtcNow;

        Assert.Empty(await _backend.ReadAsync(["task-a"], Consumer, 10, TimeSpan.FromMinutes(1), default));

        var waited = DateTime.UtcNow - started;
        Assert.InRange(waited, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(9));
        await _backend.DispatchAsync("task-a", new Envelope("after", EnvelopeKind.Message, Json("{}")), default);
        Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, TimeSpan.FromSeconds(1), default));
    }

    [Fact]
    public async Task Reclaim_returns_entries_idle_past_min_idle_to_another_consumer_and_not_fresh_ones()
    {
        await PrepareAsync("task-a");
        await _backend.DispatchAsync("task-a", new Envelope("old", EnvelopeKind.Message, Json("{}")), default);
        var old = Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));
        await Task.Delay(700);
        await _backend.DispatchAsync("task-a", new Envelope("fresh", EnvelopeKind.Message, Json("{}")), default);
        Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));

        var reclaimed = await _backend.ReclaimAsync(["task-a"], OtherConsumer, TimeSpan.FromMilliseconds(500), 10, default);

        var taken = Assert.Single(reclaimed);
        Assert.Equal((old.EntryId, "old"), (taken.EntryId, D(taken).Envelope.SignatureId));
        var pending = await Db.StreamPendingMessagesAsync(QueueKey("task-a"), "mf", 10, RedisValue.Null);
        Assert.Equal(OtherConsumer, pending.Single(p => p.MessageId == old.EntryId).ConsumerName);
        Assert.Empty(await _backend.ReclaimAsync(["task-a"], OtherConsumer, TimeSpan.FromMilliseconds(500), 10, default));
    }

    [Fact]
    public async Task Keep_alive_prevents_reclaim()
    {
        await PrepareAsync("task-a");
        await _backend.DispatchAsync("task-a", new Envelope("alive", EnvelopeKind.Message, Json("{}")), default);
        await _backend.DispatchAsync("task-a", new Envelope("stalled", EnvelopeKind.Message, Json("{}")), default);
        var read = await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default);
        await Task.Delay(800);

        await _backend.KeepAliveAsync([read.Single(d => D(d).Envelope.SignatureId == "alive")], Consumer, ActiveTtl, default);
        await Task.Delay(400);
        var reclaimed = await _backend.ReclaimAsync(["task-a"], OtherConsumer, TimeSpan.FromMilliseconds(1000), 10, default);

        Assert.Equal(["stalled"], reclaimed.Select(d => D(d).Envelope.SignatureId));
    }

    [Fact]
    public async Task Reclaim_drops_pending_entries_whose_data_was_deleted()
    {
        await PrepareAsync("task-a");
        await _backend.DispatchAsync("task-a", new Envelope("deleted", EnvelopeKind.Message, Json("{}")), default);
        var delivery = Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));
        await Db.StreamDeleteAsync(QueueKey("task-a"), [delivery.EntryId]);
        await Task.Delay(50);

        Assert.Empty(await _backend.ReclaimAsync(["task-a"], OtherConsumer, TimeSpan.FromMilliseconds(10), 10, default));
        Assert.Equal(0, await PendingCountAsync("task-a"));
    }

    [Fact]
    public async Task Entries_taken_by_a_read_abandoned_on_cancellation_are_handed_out_by_the_next_read()
    {
        await PrepareAsync("task-a");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _backend.ReadAsync(["task-a"], Consumer, 10, TimeSpan.FromSeconds(2), cancel.Token));

        // The abandoned read is still blocking on the server and takes this entry.
        await using var producer = NewBackend();
        await producer.DispatchAsync("task-a", new Envelope("late", EnvelopeKind.Message, Json("{}")), default);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(8);
        IReadOnlyList<QueueEntry> read = [];
        while (read.Count == 0 && DateTime.UtcNow < deadline)
            read = await _backend.ReadAsync(["task-a"], Consumer, 10, TimeSpan.FromMilliseconds(200), default);
        Assert.Equal("late", D(Assert.Single(read)).Envelope.SignatureId);
    }

    [Fact]
    public async Task Entries_read_ahead_but_never_handed_out_are_reclaimable_at_once_after_dispose()
    {
        await PrepareAsync("task-a", "task-b");
        foreach (var task in new[] { "task-a", "task-b" })
            await _backend.DispatchAsync(task, new Envelope(task, EnvelopeKind.Message, Json("{}")), default);
        var handedOut = Assert.Single(await _backend.ReadAsync(["task-a", "task-b"], Consumer, 1, NoWait, default));

        await _backend.DisposeAsync();
        await using var other = NewBackend();
        var reclaimed = await other.ReclaimAsync(["task-a", "task-b"], OtherConsumer, TimeSpan.FromMinutes(1), 10, default);

        var kept = Assert.Single(reclaimed);
        Assert.NotEqual(handedOut.TaskName, kept.TaskName);
    }

    [Fact]
    public async Task A_malformed_entry_comes_back_malformed_and_acknowledge_removes_it()
    {
        await PrepareAsync("task-a");
        await Db.StreamAddAsync(QueueKey("task-a"), [new NameValueEntry("junk", "1")]);
        await Db.StreamAddAsync(QueueKey("task-a"), [new NameValueEntry("i", "sig"), new NameValueEntry("k", "not-a-kind"), new NameValueEntry("p", "{}")]);
        await Db.StreamAddAsync(QueueKey("task-a"), [new NameValueEntry("i", "sig"), new NameValueEntry("k", "9"), new NameValueEntry("p", "{}")]);
        await Db.StreamAddAsync(QueueKey("task-a"), [new NameValueEntry("i", "sig"), new NameValueEntry("k", "0")]);

        var read = await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default);

        Assert.Equal(4, read.Count);
        var malformed = read.Select(Assert.IsType<MalformedEntry>).ToArray();
        Assert.All(malformed, d => Assert.False(string.IsNullOrEmpty(d.Reason)));
        foreach (var entry in malformed) await _backend.AcknowledgeAsync(entry, default);
        Assert.Equal(0, await PendingCountAsync("task-a"));
        await _backend.TrimQueuesAsync(["task-a"], default);
        Assert.Equal(0, await Db.StreamLengthAsync(QueueKey("task-a")));
    }

    [Fact]
    public async Task Prepare_queues_is_idempotent_and_a_deleted_queue_is_recreated_on_read()
    {
        await PrepareAsync("task-a");
        await PrepareAsync("task-a");
        await Db.KeyDeleteAsync(QueueKey("task-a"));

        Assert.Empty(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));
        await _backend.DispatchAsync("task-a", new Envelope("sig", EnvelopeKind.Message, Json("{}")), default);
        Assert.Single(await _backend.ReadAsync(["task-a"], Consumer, 10, NoWait, default));
    }

    // ---- read and start ----

    [Fact]
    public async Task Read_and_start_starts_what_waits_across_queues_and_takes_no_more_than_asked()
    {
        await PrepareAsync("task-a", "task-b");
        var signatures = new[]
        {
            await CreateAsync("task-a", [Kwarg("to", "\"a@b.c\"")], success: ["succ-1"], errors: ["err-1"]), await CreateAsync("task-a"),
            await CreateAsync("task-b"), await CreateAsync("task-b"), await CreateAsync("task-b"),
        };
        foreach (var signature in signatures)
            await _backend.DispatchAsync(signature.TaskName, new Envelope(signature.Id, EnvelopeKind.Message, Json("{}"), TraceParent: "00-trace-span-01"), default);

        var taken = await _backend.ReadAndStartAsync(["task-a", "task-b"], Consumer, 4, NoWait, ActiveTtl, default);

        Assert.Equal(4, taken.Count);
        foreach (var (entry, started, _) in taken)
        {
            var delivery = D(entry);
            Assert.Equal("00-trace-span-01", delivery.Envelope.TraceParent);
            var startedRun = Assert.IsType<StartedRun>(started);
            Assert.Equal(StartResult.Started, startedRun.Result);
            Assert.Equal((1, delivery.TaskName), (startedRun.Attempts, startedRun.TaskName));
            Assert.Equal(SignatureStatus.Active, (await _backend.GetSignatureAsync(delivery.Envelope.SignatureId, default))!.Status);
        }
        // The first entry of each queue is among the four, whichever queue was read first.
        var run = taken.Single(t => D(t.Entry).Envelope.SignatureId == signatures[0].Id).Started!.Run!;
        Assert.Equal((1, 1), (run.SuccessCallbacks, run.ErrorCallbacks));
        Assert.Equal("\"a@b.c\"", Text(Assert.Single(run.Kwargs).Value));
        // The fifth was not taken: it waits, unstarted, for the next read.
        Assert.Equal(4, await PendingCountAsync("task-a") + await PendingCountAsync("task-b"));
        var fifth = Assert.Single(await _backend.ReadAndStartAsync(["task-a", "task-b"], Consumer, 4, NoWait, ActiveTtl, default));
        Assert.Equal(StartResult.Started, fifth.Started!.Result);
        Assert.Equal(signatures.Select(s => s.Id).Order(), taken.Append(fifth).Select(t => D(t.Entry).Envelope.SignatureId).Order());
    }

    [Fact]
    public async Task Read_and_start_starts_only_entries_a_read_reads_as_runs_and_reports_the_rest_as_a_read_does()
    {
        await PrepareAsync("task-a");
        var signature = await CreateAsync("task-a");
        var queue = QueueKey("task-a");
        NameValueEntry[][] unstartable =
        [
            [new("junk", "1")],
            [new("i", signature.Id), new("k", "not-a-kind"), new("p", "{}")],
            [new("i", signature.Id), new("k", "9"), new("p", "{}")],
            [new("i", signature.Id), new("k", "0")],
            [new("i", ""), new("k", "0"), new("p", "{}")],
            [new("k", "0"), new("p", "{}")],
        ];
        foreach (var fields in unstartable) await Db.StreamAddAsync(queue, fields);
        // A kind with a leading zero reads as a run, yet the script does not start it: the worker starts it itself.
        await Db.StreamAddAsync(queue, [new NameValueEntry("i", signature.Id), new NameValueEntry("k", "00"), new NameValueEntry("p", "{}")]);

        var taken = await _backend.ReadAndStartAsync(["task-a"], Consumer, 10, NoWait, ActiveTtl, default);

        Assert.Equal(unstartable.Length + 1, taken.Count);
        Assert.All(taken, t => Assert.False(t.IsStarted));
        Assert.All(taken.Take(unstartable.Length), t => Assert.False(string.IsNullOrEmpty(Assert.IsType<MalformedEntry>(t.Entry).Reason)));
        Assert.Equal(signature.Id, D(taken[^1].Entry).Envelope.SignatureId);
        Assert.Equal(SignatureStatus.Pending, (await _backend.GetSignatureAsync(signature.Id, default))!.Status);
        Assert.Equal(StartResult.Started, (await _backend.StartAsync(D(taken[^1].Entry), ActiveTtl, default)).Result);
    }

    [Fact]
    public async Task Read_and_start_of_a_missing_or_finished_signature_acknowledges_its_entry_as_start_does()
    {
        await PrepareAsync("task-a");
        var done = await CreateAsync("task-a");
        var first = await DispatchAndReadAsync("task-a", done.Id);
        await _backend.StartAsync(first, ActiveTtl, default);
        await _backend.CompleteAsync(first, Json("1"), Lifetimes(TimeSpan.FromMinutes(5)), default);
        await _backend.DispatchAsync("task-a", new Envelope(done.Id, EnvelopeKind.Message, Json("{}")), default);
        await _backend.DispatchAsync("task-a", new Envelope("gone-id", EnvelopeKind.Message, Json("{}")), default);

        var taken = await _backend.ReadAndStartAsync(["task-a"], Consumer, 10, NoWait, ActiveTtl, default);

        Assert.Equal([StartResult.NotRunnable, StartResult.Missing], taken.Select(t => t.Started!.Result));
        Assert.Equal(0, await PendingCountAsync("task-a"));
    }

    [Fact]
    public async Task Read_and_start_with_nothing_waiting_waits_on_a_blocking_read_whose_entry_the_caller_starts()
    {
        var signature = await CreateAsync("task-a");
        await PrepareAsync("task-a");
        var read = _backend.ReadAndStartAsync(["task-a"], Consumer, 10, TimeSpan.FromSeconds(5), ActiveTtl, default);
        await Task.Delay(200);
        Assert.False(read.IsCompleted);

        await _backend.DispatchAsync("task-a", new Envelope(signature.Id, EnvelopeKind.Message, Json("{}")), default);

        var taken = Assert.Single(await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(taken.IsStarted);
        Assert.Equal(SignatureStatus.Pending, (await _backend.GetSignatureAsync(signature.Id, default))!.Status);
        Assert.Equal(StartResult.Started, (await _backend.StartAsync(D(taken.Entry), ActiveTtl, default)).Result);
    }

    [Fact]
    public async Task Read_and_start_recreates_a_deleted_queue_and_starts_what_arrives_in_it()
    {
        await PrepareAsync("task-a", "task-b");
        var signature = await CreateAsync("task-b");
        await _backend.DispatchAsync("task-b", new Envelope(signature.Id, EnvelopeKind.Message, Json("{}")), default);
        await Db.KeyDeleteAsync(QueueKey("task-a"));

        // The queue without its group does not keep the other queue's run from starting.
        var taken = Assert.Single(await _backend.ReadAndStartAsync(["task-a", "task-b"], Consumer, 10, NoWait, ActiveTtl, default));
        Assert.Equal(StartResult.Started, taken.Started!.Result);

        var again = await CreateAsync("task-a");
        await _backend.DispatchAsync("task-a", new Envelope(again.Id, EnvelopeKind.Message, Json("{}")), default);
        var recreated = Assert.Single(await _backend.ReadAndStartAsync(["task-a", "task-b"], Consumer, 10, NoWait, ActiveTtl, default));
        Assert.Equal(again.Id, D(recreated.Entry).Envelope.SignatureId);
        Assert.Equal(StartResult.Started, recreated.Started!.Result);
    }

    // ---- scripts and connections ----

    [Fact]
    public async Task Transitions_still_work_after_the_server_lost_the_script_library()
    {
        var signature = await CreateAsync("task-a");
        var delivery = await DispatchAndReadAsync("task-a", signature.Id);
        await redis.ServerOfStore(_prefix).ExecuteAsync("FUNCTION", "FLUSH");

        Assert.Equal(StartResult.Started, (await _backend.StartAsync(delivery, ActiveTtl, default)).Result);
        Assert.Equal(StartResult.Started, (await _backend.StartAsync(delivery, ActiveTtl, default)).Result);
        Assert.True((await _backend.CompleteAsync(delivery, Json("1"), Lifetimes(TimeSpan.Zero), default)).Applied);
    }

    [Fact]
    public async Task A_store_in_the_layout_of_an_earlier_version_is_refused_at_connect_saying_how_to_move_on()
    {
        // Before the hash tag, a store's keys were prefix:tasks, prefix:q:task, prefix:s:id: this version would not see them.
        var earlier = $"{_prefix}:tasks";
        await Db.HashSetAsync(earlier, "process-order", "definition");
        await using (var backend = NewBackend())
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => backend.GetSignatureAsync("any", default));

            Assert.Contains($"key prefix '{_prefix}'", refused.Message);
            Assert.Contains($"'{earlier}'", refused.Message);
            Assert.Contains("earlier version", refused.Message);
            Assert.Contains("let the earlier version's workers finish", refused.Message);
        }

        await Db.KeyDeleteAsync(earlier);
        await using var drained = NewBackend();
        Assert.Null(await drained.GetSignatureAsync("any", default));
    }

    [Fact]
    public async Task A_store_whose_signatures_an_earlier_version_kept_as_hashes_is_refused_at_connect_saying_how_to_move_on()
    {
        var layout = $"{{{_prefix}}}:layout";
        await using (var first = NewBackend()) Assert.Null(await first.GetSignatureAsync("any", default));
        // What an earlier version left: the same layout record without the record format.
        Assert.True(await Db.HashDeleteAsync(layout, "records"));
        await using (var backend = NewBackend())
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => backend.GetSignatureAsync("any", default));

            Assert.Contains($"key prefix '{_prefix}'", refused.Message);
            Assert.Contains("kept each signature as a hash", refused.Message);
            Assert.Contains("let the earlier version's workers finish", refused.Message);
            Assert.Contains("another RedisBackendOptions.KeyPrefix", refused.Message);
        }

        // Drained and its keys deleted: a new store.
        await Db.KeyDeleteAsync(layout);
        await using var drained = NewBackend();
        Assert.Null(await drained.GetSignatureAsync("any", default));
        Assert.Equal("packed", (string?)await Db.HashGetAsync(layout, "records"));
    }

    // ---- helpers ----

    private RedisBackend NewBackend() =>
        new(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = _prefix }, NullLogger<RedisBackend>.Instance);

    private protected string SignatureKey(string id) => $"{{{_prefix}}}:s:{id}";

    private string QueueKey(string taskName) => $"{{{_prefix}}}:q:{taskName}";

    private protected static KeyValuePair<string, byte[]> Kwarg(string name, string json) => new(name, Encoding.UTF8.GetBytes(json));

    private static byte[] Json(string json) => Encoding.UTF8.GetBytes(json);

    private static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);

    private protected async Task<SignatureRecord> CreateAsync(string taskName, KeyValuePair<string, byte[]>[]? kwargs = null, string[]? success = null, string[]? errors = null)
    {
        var signature = new SignatureRecord(SignatureRecord.NewId(), taskName, "Demo." + taskName, kwargs ?? [], success ?? [], errors ?? [],
            SignatureStatus.Pending, SignatureStatus.Pending, "mageflow_results", DateTimeOffset.UtcNow, 0);
        await _backend.CreateSignatureAsync(signature, ActiveTtl, default);
        return signature;
    }

    private static Delivery D(QueueEntry entry) => Assert.IsType<Delivery>(entry);

    private static SignatureLifetimes Lifetimes(TimeSpan done) => new(ActiveTtl, done);

    private Task PrepareAsync(params string[] taskNames) => _backend.PrepareQueuesAsync(taskNames, default);

    /// <summary>Queues a run of <paramref name="signatureId"/> and reads it back as a delivery, as a worker would.</summary>
    private async Task<Delivery> DispatchAndReadAsync(string taskName, string signatureId)
    {
        await PrepareAsync(taskName);
        await _backend.DispatchAsync(taskName, new Envelope(signatureId, EnvelopeKind.Message, Json("{}")), default);
        var delivery = D(Assert.Single(await _backend.ReadAsync([taskName], Consumer, 10, NoWait, default)));
        Assert.Equal(signatureId, delivery.Envelope.SignatureId);
        return delivery;
    }

    private async Task<long> PendingCountAsync(string taskName) =>
        (await Db.StreamPendingAsync(QueueKey(taskName), "mf")).PendingMessageCount;

}
