using System.Text;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using MageFlow.TestRedis;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.BadInput;

/// <summary>
/// Bad data written straight into Redis (the layout of RedisLayout.cs): malformed stream entries, corrupt
/// signature records, garbage task definitions and delayed retries. Each case seeds its data before any worker
/// starts, queues a canary with it (so both land in the same read and the same group-committed start script,
/// rule 21), then starts a worker; after the expected ending, a second canary proves the worker still serves runs.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisRawBadInputTests(RedisServerFixture redis) : RawBadInputTests(redis);

/// <summary>The same bad data on a real three-master Redis Cluster.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterRawBadInputTests(RedisClusterFixture cluster) : RawBadInputTests(cluster);

/// <summary>The cases, whatever the Redis deployment.</summary>
public abstract class RawBadInputTests(IRedisDeployment redis)
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    public static TheoryData<string> Cases => new(Table.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Raw_redis(string @case)
    {
        var lab = new Lab();
        await using var cluster = await LabCluster.StartAsync(lab, o => o.UseRedis(redis.Configuration, r => r.KeyPrefix = _prefix), workers: 0);
        var c = new BadInputCase(cluster, lab, new RedisProbe(redis.ServerOfStore(_prefix), redis.Database, _prefix));
        await Table[@case](new Raw(c, redis.Database, _prefix));
        await c.CanaryAsync();
    }

    private sealed class Raw(BadInputCase c, IDatabase db, string prefix)
    {
        public BadInputCase C => c;

        public IDatabase Db => db;

        public RedisKey Signature(string id) => $"{{{prefix}}}:s:{id}";

        public RedisKey Queue(string task) => $"{{{prefix}}}:q:{task}";

        public RedisKey Tasks => $"{{{prefix}}}:tasks";

        public RedisKey Delayed => $"{{{prefix}}}:delayed";

        public async Task<string> AddEntryAsync(string task, params (string Name, RedisValue Value)[] fields) =>
            (string)(await db.StreamAddAsync(Queue(task), fields.Select(f => new NameValueEntry(f.Name, f.Value)).ToArray()))!;

        /// <summary>Queues a canary beside what was seeded, starts the worker, and waits for the canary (rule 21).</summary>
        public async Task RunWorkerAsync()
        {
            var canary = await c.QueueCanaryAsync();
            await c.Cluster.StartWorkerAsync();
            await c.WaitForCanaryAsync(canary);
        }

        /// <summary>A process-order signature with a note error callback whose text is the returned marker.</summary>
        public async Task<(TaskSignature Order, string Marker)> SignOrderAsync(object? kwargs = null)
        {
            var marker = BadInputCase.NewId("sink");
            var sink = await c.ErrorSinkAsync(marker);
            var order = await c.Mage.AsignAsync(Shop.ProcessOrder, kwargs, errorCallbacks: [sink]);
            return (order, marker);
        }

        public static string OrderJson(string? id = null) => $$"""{"orderId":"{{id ?? BadInputCase.NewId()}}","amount":1}""";
    }

    private static readonly Dictionary<string, Func<Raw, Task>> Table = new(StringComparer.Ordinal)
    {
        // ---- malformed entries: dropped and logged (c) ----
        ["entry: no signature id field"] = x => Dropped(x, ("k", "0"), ("p", Raw.OrderJson())),
        ["entry: no kind field"] = x => DroppedFor(x, id => [("i", id), ("p", Raw.OrderJson())]),
        ["entry: no payload field"] = x => DroppedFor(x, id => [("i", id), ("k", "0")]),
        ["entry: unknown kind 7"] = x => DroppedFor(x, id => [("i", id), ("k", "7"), ("p", Raw.OrderJson())]),
        ["entry: kind not a number"] = x => DroppedFor(x, id => [("i", id), ("k", "message"), ("p", Raw.OrderJson())]),
        ["entry: negative kind"] = x => DroppedFor(x, id => [("i", id), ("k", "-1"), ("p", Raw.OrderJson())]),
        ["entry: only an unknown field"] = x => Dropped(x, ("zz", "1")),
        ["entry: signature id with a comma"] = x => DroppedMissing(x, id => $"{id},{id}"),
        ["entry: signature id with a colon"] = x => DroppedMissing(x, id => $"{id}:s:{id}"),
        ["entry: signature id with a newline"] = x => DroppedMissing(x, id => $"{id}\n{id}"),
        ["entry: signature id of no signature"] = x => DroppedMissing(x, _ => "AAAAAAAAAAAAAAAA"),

        // ---- entries whose payload cannot become the input: the run fails at once (b) ----
        ["entry: payload not JSON"] = x => InvalidInput(x, null, ("p", "{orderId: nope")),
        ["entry: payload a JSON array"] = x => InvalidInput(x, null, ("p", "[1,2]")),
        ["entry: payload a JSON string"] = x => InvalidInput(x, null, ("p", "\"o-1\"")),
        ["entry: payload 200-deep JSON"] = x => InvalidInput(x, null,
            ("p", "{\"orderId\":\"d\",\"amount\":1,\"address\":" + string.Concat(Enumerable.Repeat("{\"city\":", 200)) + "1" + new string('}', 201))),
        ["entry: lone surrogate in a member name, kwargs"] = x => InvalidInput(x, new { priority = "p" },
            ("p", "{\"orderId\":\"s\",\"amount\":1,\"no\\ud800te\":1}")),
        ["entry: lone surrogate in a member name"] = x => InvalidInput(x, null,
            ("p", "{\"orderId\":\"s\",\"amount\":1,\"no\\ud800te\":1}")),
        ["entry: lone surrogate in a value"] = x => InvalidInput(x, null, ("p", "{\"orderId\":\"s\\udc00\",\"amount\":1}")),
        ["entry: call-time kwargs not an object"] = x => InvalidInput(x, null, ("p", Raw.OrderJson()), ("w", "[1]")),
        ["entry: call-time kwargs not JSON"] = x => InvalidInput(x, null, ("p", Raw.OrderJson()), ("w", "priority=high")),
        ["entry: lone surrogate in a call-time kwarg name"] = x => InvalidInput(x, null, ("p", Raw.OrderJson()), ("w", "{\"pri\\ud800ority\":\"x\"}")),
        ["entry: result kind with a payload that is not JSON"] = x => InvalidInput(x, null, ("k", "1"), ("p", "{not json")),

        // ---- corrupt signature records ----
        ["record: the key is a string that is not MessagePack"] = x => WrongKeyType(x, (db, key) => db.StringSetAsync(key, "garbage")),
        ["record: the key is MessagePack but not a map"] = x => WrongKeyType(x, (db, key) => db.StringSetAsync(key, new byte[] { 0x2a })),
        ["record: the key is a hash (signatures of an earlier version)"] = x => WrongKeyType(x, (db, key) => db.HashSetAsync(key, "t", Shop.ProcessOrder)),
        ["record: the key is a list"] = x => WrongKeyType(x, (db, key) => db.ListRightPushAsync(key, "garbage")),
        ["record: no task name field t"] = x => CorruptRecord(x, (db, key) => StoredRecords.DeleteAsync(db, key, "t")),
        ["record: task name t a number, not text"] = x => CorruptRecord(x, (db, key) => StoredRecords.SetNumberAsync(db, key, "t", 7)),
        ["record: no message type field m"] = x => CorruptRecord(x, (db, key) => StoredRecords.DeleteAsync(db, key, "m")),
        ["record: no return field r"] = x => CorruptRecord(x, (db, key) => StoredRecords.DeleteAsync(db, key, "r")),
        ["record: attempts a not a number"] = x => CorruptRecord(x, (db, key) => StoredRecords.SetAsync(db, key, "a", "many")),
        ["record: created c not a number"] = x => CorruptRecord(x, (db, key) => StoredRecords.SetAsync(db, key, "c", "yesterday")),
        ["record: kwarg a number, not JSON text"] = x => CorruptRecord(x, (db, key) => StoredRecords.SetNumberAsync(db, key, "k:priority", 1)),
        ["record: task name t of no registered task"] = async x =>
        {
            var (order, marker) = await x.SignOrderAsync();
            await StoredRecords.SetAsync(x.Db, x.Signature(order.Id), "t", "ghost-task");
            await x.AddEntryAsync(Shop.ProcessOrder, ("i", order.Id), ("k", "0"), ("p", Raw.OrderJson()));
            await x.RunWorkerAsync();
            await x.C.WaitForErrorCallbackAsync(order.Id, "ghost-task", marker);
            await x.C.CanaryAsync();
            var fired = x.C.NotesWith(marker);
            Assert.True(fired.Count == 1, $"The error callback fired {fired.Count} times; it must fire exactly once.");
            Assert.Equal(order.Id, fired[0].Failure?.SignatureId);
            Assert.Contains("ghost-task", fired[0].Failure!.Error);
            Assert.Equal(TaskFailureKind.UnknownTask, fired[0].Failure!.Kind);
            Assert.Equal("3", await StoredRecords.FieldAsync(x.Db, x.Signature(order.Id), "s"));
            Assert.Equal(0, x.C.BodyRuns(order.Id));
        },
        ["record: status s not a number"] = x => CorruptRecord(x, (db, key) => StoredRecords.SetAsync(db, key, "s", "running")),
        ["record: sc naming missing ids and garbage"] = x => SuccessIds(x, valid => $"nope,{valid},\n, ,:x:,,"),
        ["record: sc naming a key that is not a record"] = async x =>
        {
            await x.Db.StringSetAsync(x.Signature("strkey"), "garbage");
            await SuccessIds(x, valid => $"strkey,{valid}");
        },
        ["record: ec naming missing ids and garbage"] = x => ErrorIds(x, valid => $"nope,{valid},\n, ,:x:,,"),
        ["record: ec naming a key that is not a record"] = async x =>
        {
            await x.Db.ListRightPushAsync(x.Signature("listkey"), "garbage");
            await ErrorIds(x, valid => $"listkey,{valid}");
        },
        ["record: kwarg field that is not JSON"] = async x =>
        {
            var (order, marker) = await x.SignOrderAsync(new { priority = "low" });
            await StoredRecords.SetAsync(x.Db, x.Signature(order.Id), "k:priority", "{not json");
            await x.AddEntryAsync(Shop.ProcessOrder, ("i", order.Id), ("k", "0"), ("p", Raw.OrderJson()));
            await x.RunWorkerAsync();
            await x.C.FailedAsync(order, marker, TaskFailureKind.InvalidInput, 0, $"'{Shop.ProcessOrder}'", "priority");
        },
        ["record: kwarg field of the wrong JSON type"] = async x =>
        {
            var (order, marker) = await x.SignOrderAsync(new { amount = 2m });
            await StoredRecords.SetAsync(x.Db, x.Signature(order.Id), "k:amount", "{\"value\":2}");
            await x.AddEntryAsync(Shop.ProcessOrder, ("i", order.Id), ("k", "0"), ("p", Raw.OrderJson()));
            await x.RunWorkerAsync();
            await x.C.FailedAsync(order, marker, TaskFailureKind.InvalidInput, 0, $"'{Shop.ProcessOrder}'", "amount", "System.Decimal");
        },
        ["record: kwarg value with an escaped lone surrogate"] = async x =>
        {
            var (order, marker) = await x.SignOrderAsync(new { priority = "low" });
            await StoredRecords.SetAsync(x.Db, x.Signature(order.Id), "k:priority", "\"lo\\ud800w\"");
            await x.AddEntryAsync(Shop.ProcessOrder, ("i", order.Id), ("k", "0"), ("p", Raw.OrderJson()));
            await x.RunWorkerAsync();
            await x.C.FailedAsync(order, marker, TaskFailureKind.InvalidInput, 0, $"'{Shop.ProcessOrder}'", "priority");
        },

        // ---- garbage task definitions: signing by that name fails clearly (a) ----
        ["task definition: not JSON"] = x => GarbageDefinition(x, "not json"),
        ["task definition: JSON missing its fields"] = x => GarbageDefinition(x, "{\"m\":\"Some.Type\"}"),
        ["task definition: retries n is a string"] = x => GarbageDefinition(x, "{\"m\":\"Some.Type\",\"r\":\"mageflow_results\",\"n\":\"two\"}"),
        ["task definition: a JSON array"] = x => GarbageDefinition(x, "[1,2,3]"),

        // ---- garbage members in the delayed set: dropped and logged, real retries still promoted (c) ----
        ["delayed: member not msgpack"] = x => GarbageDelayed(x, Encoding.UTF8.GetBytes("garbage")),
        ["delayed: member a msgpack number"] = x => GarbageDelayed(x, [0x2a]),
        ["delayed: member whose fields are not a list"] = x => GarbageDelayed(x,
            [0xad, .. Encoding.UTF8.GetBytes(Shop.ProcessOrder), 0xa3, .. "1-0"u8.ToArray(), 0xa9, .. "notatable"u8.ToArray()]),
        ["delayed: member with an odd number of fields"] = x => GarbageDelayed(x,
            [0xad, .. Encoding.UTF8.GetBytes(Shop.ProcessOrder), 0xa3, .. "1-0"u8.ToArray(), 0x91, 0xa1, (byte)'i']),
    };

    // ---- case helpers ----

    private static async Task Dropped(Raw x, params (string, RedisValue)[] fields)
    {
        var entry = await x.AddEntryAsync(Shop.ProcessOrder, fields);
        await x.RunWorkerAsync();
        await x.C.DroppedAsync(Shop.ProcessOrder, null, entry);
    }

    /// <summary>A malformed entry naming a real signature: dropped, the signature untouched (still Pending).</summary>
    private static async Task DroppedFor(Raw x, Func<string, (string, RedisValue)[]> fields)
    {
        var (order, _) = await x.SignOrderAsync();
        var entry = await x.AddEntryAsync(Shop.ProcessOrder, fields(order.Id));
        await x.RunWorkerAsync();
        await x.C.DroppedAsync(Shop.ProcessOrder, order.Id, entry);
        Assert.Equal((SignatureStatus.Pending, SignatureStatus.Pending, 0), await order.StateAsync());
    }

    /// <summary>An entry for a signature that does not exist (rule 10): dropped, logged, nothing created.</summary>
    private static async Task DroppedMissing(Raw x, Func<string, string> hostileId)
    {
        var (order, _) = await x.SignOrderAsync();
        var id = hostileId(order.Id);
        await x.AddEntryAsync(Shop.ProcessOrder, ("i", id), ("k", "0"), ("p", Raw.OrderJson()));
        await x.RunWorkerAsync();
        await x.C.DroppedAsync(Shop.ProcessOrder, id, id);
        Assert.False(await x.Db.KeyExistsAsync(x.Signature(id)), "A signature key was created for the hostile id.");
        Assert.Equal((SignatureStatus.Pending, SignatureStatus.Pending, 0), await order.StateAsync());
    }

    /// <summary>A well-formed entry for a real signature whose payload cannot become the input: Failed at once, body never ran.</summary>
    private static async Task InvalidInput(Raw x, object? kwargs, params (string Name, RedisValue Value)[] fields)
    {
        var (order, marker) = await x.SignOrderAsync(kwargs);
        var all = new List<(string, RedisValue)> { ("i", order.Id) };
        if (fields.All(f => f.Name != "k")) all.Add(("k", "0"));
        all.AddRange(fields);
        await x.AddEntryAsync(Shop.ProcessOrder, all.ToArray());
        await x.RunWorkerAsync();
        await x.C.FailedAsync(order, marker, TaskFailureKind.InvalidInput, 0, $"'{Shop.ProcessOrder}'");
        Assert.Equal(1, (await order.GetInfoAsync()).Attempts);
    }

    /// <summary>The signature key holds another Redis type: the entry is dropped and logged, the key left alone.</summary>
    private static async Task WrongKeyType(Raw x, Func<IDatabase, RedisKey, Task> corrupt)
    {
        var id = BadInputCase.NewId("wrongtype");
        await corrupt(x.Db, x.Signature(id));
        var type = await x.Db.KeyTypeAsync(x.Signature(id));
        await x.AddEntryAsync(Shop.ProcessOrder, ("i", id), ("k", "0"), ("p", Raw.OrderJson()));
        await x.RunWorkerAsync();
        await x.C.DroppedAsync(Shop.ProcessOrder, id, id);
        Assert.Equal(type, await x.Db.KeyTypeAsync(x.Signature(id)));
    }

    /// <summary>
    /// A signature record with a field missing or unreadable: its own run fails (status Failed, its error callbacks
    /// fire once, the body never ran), and only its own (rule 21: the canary in the same batch completes).
    /// </summary>
    private static async Task CorruptRecord(Raw x, Func<IDatabase, RedisKey, Task> corrupt)
    {
        var (order, marker) = await x.SignOrderAsync();
        await corrupt(x.Db, x.Signature(order.Id));
        await x.AddEntryAsync(Shop.ProcessOrder, ("i", order.Id), ("k", "0"), ("p", Raw.OrderJson()));
        await x.RunWorkerAsync();
        await BadInputCase.WaitAsync(() => Task.FromResult(x.C.NotesWith(marker).Count > 0), async () =>
            $"the error callback of the corrupt signature {order.Id} never fired; its record now: {await RecordText(x, order.Id)}; body ran {x.C.BodyRuns(order.Id)} time(s). Logged: {x.C.LogText()}");
        await x.C.CanaryAsync();
        Assert.True(x.C.NotesWith(marker).Count == 1, $"The error callback fired {x.C.NotesWith(marker).Count} times; it must fire exactly once.");
        Assert.Equal(order.Id, x.C.NotesWith(marker)[0].Failure?.SignatureId);
        Assert.Equal(0, x.C.BodyRuns(order.Id));
        Assert.Equal("3", await StoredRecords.FieldAsync(x.Db, x.Signature(order.Id), "s"));
        Assert.Equal(0L, await x.C.Storage.QueueLengthAsync(Shop.ProcessOrder));
    }

    private static async Task<string> RecordText(Raw x, string id)
    {
        try
        {
            var fields = await StoredRecords.ReadAsync(x.Db, x.Signature(id)) ?? [];
            return string.Join(" ", fields.Where(e => !e.Key.StartsWith("k:", StringComparison.Ordinal)).Select(e => $"{e.Key}={e.Value}"));
        }
        catch (RedisServerException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>sc holds garbage beside a real callback: the task completes and the real callback fires once; the rest is logged.</summary>
    private static async Task SuccessIds(Raw x, Func<string, string> successIds)
    {
        var marker = BadInputCase.NewId("audit");
        var audit = await x.C.Mage.AsignAsync(Shop.Audit, new { source = marker });
        var order = await x.C.Mage.AsignAsync(Shop.ProcessOrder);
        await StoredRecords.SetAsync(x.Db, x.Signature(order.Id), "sc", successIds(audit.Id));
        await x.AddEntryAsync(Shop.ProcessOrder, ("i", order.Id), ("k", "0"), ("p", Raw.OrderJson()));
        await x.RunWorkerAsync();
        IReadOnlyList<Received> Audits() => x.C.Recorder.Of(Shop.Audit).Where(r => ((AuditMessage)r.Message!).Source == marker).ToArray();
        await BadInputCase.WaitAsync(() => Task.FromResult(Audits().Count > 0), async () =>
            $"the valid success callback never fired; the task is {await x.C.TryStateAsync(order.Id)}, body ran {x.C.BodyRuns(order.Id)} time(s). Logged: {x.C.LogText()}");
        await x.C.CanaryAsync();
        Assert.True(Audits().Count == 1, $"The valid success callback fired {Audits().Count} times; it must fire exactly once.");
        Assert.Equal(SignatureStatus.Done, await order.GetStatusAsync());
        Assert.Equal(1, x.C.BodyRuns(order.Id));
        Assert.True(x.C.Cluster.Logs.Logged(LogLevel.Warning, order.Id), $"Nothing at Warning or above named {order.Id} and its unusable callback ids. Logged: {x.C.LogText()}");
    }

    /// <summary>ec holds garbage beside a real callback: the task fails and the real error callback fires once.</summary>
    private static async Task ErrorIds(Raw x, Func<string, string> errorIds)
    {
        var marker = BadInputCase.NewId("sink");
        var sink = await x.C.ErrorSinkAsync(marker);
        var order = await x.C.Mage.AsignAsync(Shop.ProcessOrder);
        await StoredRecords.SetAsync(x.Db, x.Signature(order.Id), "ec", errorIds(sink.Id));
        await x.AddEntryAsync(Shop.ProcessOrder, ("i", order.Id), ("k", "0"), ("p", Raw.OrderJson(BadInputCase.NewId("fatal"))));
        await x.RunWorkerAsync();
        await x.C.FailedAsync(order, marker, TaskFailureKind.Error, 1, "is invalid");
        Assert.True(x.C.Cluster.Logs.Logged(LogLevel.Warning, order.Id), $"Nothing at Warning or above named {order.Id}. Logged: {x.C.LogText()}");
    }

    private static async Task GarbageDefinition(Raw x, string value)
    {
        const string ghost = "ghost-task";
        await x.Db.HashSetAsync(x.Tasks, ghost, value);
        await x.RunWorkerAsync();
        await x.C.RefusedAsync<Exception>(() => x.C.Mage.AsignAsync(ghost), $"'{ghost}'");
        Assert.Equal(value, (string?)await x.Db.HashGetAsync(x.Tasks, ghost));
    }

    /// <summary>A garbage member of the delayed set is removed (and logged); a real retry waiting beside it still runs.</summary>
    private static async Task GarbageDelayed(Raw x, byte[] member)
    {
        await x.Db.SortedSetAddAsync(x.Delayed, member, 0);
        var order = await x.C.Mage.AsignAsync(Shop.ProcessOrder);
        await order.RunAsync(BadInputCase.Order("flaky")); // fails attempt 1, waits in the delayed set, succeeds on attempt 2
        await x.RunWorkerAsync();
        await BadInputCase.WaitAsync(async () => await order.GetStatusAsync() == SignatureStatus.Done, async () =>
            $"the retried order never completed: {await x.C.TryStateAsync(order.Id)}, body ran {x.C.BodyRuns(order.Id)} time(s); delayed set holds {await x.Db.SortedSetLengthAsync(x.Delayed)} member(s). Logged: {x.C.LogText()}");
        Assert.Equal(2, x.C.BodyRuns(order.Id));
        await BadInputCase.WaitAsync(async () => await x.Db.SortedSetScoreAsync(x.Delayed, member) is null,
            () => Task.FromResult("the garbage member is still in the delayed set"));
        await BadInputCase.WaitAsync(() => Task.FromResult(x.C.Cluster.Logs.Logged(LogLevel.Warning, "delayed", StringComparison.OrdinalIgnoreCase)),
            () => Task.FromResult($"nothing at Warning or above mentions the dropped delayed member. Logged: {x.C.LogText()}"));
    }
}
