using System.Collections.Concurrent;
using MageFlow.Signatures;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// The Redis backend: signatures as compact hashes, one stream and consumer group per task, delayed retries in a
/// sorted set, and every state transition as one Lua script (one round trip, rule 17). Mirrors
/// <see cref="InMemory.InMemoryBackend"/> exactly. Two connections: a multiplexed one that pipelines everything,
/// and a dedicated one for blocking reads, which would otherwise stall every command queued behind them.
/// Keys are not hash-tagged: the scripts touch callback keys they only learn while running, so this backend
/// needs a single Redis (or one cluster slot), not a cluster.
/// </summary>
internal sealed partial class RedisBackend : IMageBackend
{
    /// <summary>The blocking connection's command timeout, at least; a read blocks for at most half of it.</summary>
    private const int MinBlockingTimeoutMs = 10_000;

    /// <summary>Most runs one transition script call carries: bounds the time Redis spends in one script.</summary>
    private const int MaxTransitionBatch = 64;

    private static readonly RedisScript CreateSignatureScript = RedisScript.FromResource("create_signature");
    private static readonly RedisScript UpdateKwargsScript = RedisScript.FromResource("update_kwargs");
    private static readonly RedisScript SetStatusScript = RedisScript.FromResource("set_status");
    private static readonly RedisScript StartScript = RedisScript.FromResource("start");
    private static readonly RedisScript CompleteScript = RedisScript.FromResource("complete");
    private static readonly RedisScript FailScript = RedisScript.FromResource("fail");
    private static readonly RedisScript RetryLaterScript = RedisScript.FromResource("retry_later");
    private static readonly RedisScript PromoteDueScript = RedisScript.FromResource("promote_due");
    private static readonly RedisScript AcknowledgeScript = RedisScript.FromResource("acknowledge");

    private static readonly RedisScript[] AllScripts =
    [
        CreateSignatureScript, UpdateKwargsScript, SetStatusScript, StartScript, CompleteScript,
        FailScript, RetryLaterScript, PromoteDueScript, AcknowledgeScript,
    ];

    private readonly RedisBackendOptions _options;
    private readonly ILogger<RedisBackend> _logger;
    private readonly ConfigurationOptions _configuration;
    private readonly string _configurationForMessages;
    private readonly RedisLayout _layout;
    private readonly RedisValue _group = RedisLayout.ConsumerGroup;
    private readonly SemaphoreSlim _connectGate = new(1, 1);

    // Concurrent calls share round trips: signatures created, runs started and runs completed together go in
    // one script call per kind.
    private readonly TransitionBatcher<Delivery, StartOutcome> _starts;
    private readonly TransitionBatcher<Completion, FinishOutcome> _completions;
    private readonly TransitionBatcher<Creation, bool> _creations;

    // One blocking read at a time: reads queued behind each other on one connection would add up past its timeout.
    private readonly SemaphoreSlim _readGate = new(1, 1);

    // Entries read but not yet handed out (a read returns up to COUNT per stream, or was abandoned on cancellation).
    private readonly Lock _readAheadGate = new();
    private readonly Dictionary<string, List<Delivery>> _readAhead = new(StringComparer.Ordinal);

    // XAUTOCLAIM cursors per stream, so successive reclaims scan the whole pending list, not just its head.
    private readonly ConcurrentDictionary<string, string> _reclaimCursors = new(StringComparer.Ordinal);

    private ConnectionMultiplexer? _main;
    private IDatabase? _database;
    private ConnectionMultiplexer? _blocking;
    private IDatabase? _blockingDatabase;
    private int _blockLimitMs;
    private Task? _abandonedRead;
    private volatile bool _disposed;

    public RedisBackend(RedisBackendOptions options, ILogger<RedisBackend> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.KeyPrefix, "options.KeyPrefix");
        _options = options;
        _logger = logger;
        try
        {
            _configuration = ConfigurationOptions.Parse(options.Configuration);
        }
        catch (Exception ex) when (ex is ArgumentException or RedisException or FormatException)
        {
            // The raw string may hold a password: name the option, not its value.
            throw new ArgumentException($"RedisBackendOptions.Configuration is not a valid StackExchange.Redis configuration string: {ex.Message}", nameof(options), ex);
        }
        _configurationForMessages = _configuration.ToString(includePassword: false);
        _layout = new RedisLayout(options.KeyPrefix);
        _starts = new TransitionBatcher<Delivery, StartOutcome>(StartBatchAsync, MaxTransitionBatch);
        _completions = new TransitionBatcher<Completion, FinishOutcome>(CompleteBatchAsync, MaxTransitionBatch);
        _creations = new TransitionBatcher<Creation, bool>(CreateBatchAsync, MaxTransitionBatch);
    }

    // ---- signatures ----

    public Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signature);
        return _creations.RunAsync(new Creation(signature, ExpiryMilliseconds(ttl)));
    }

    private async Task<bool[]> CreateBatchAsync(IReadOnlyList<Creation> creations)
    {
        var keys = new RedisKey[creations.Count];
        var values = new List<RedisValue>(creations.Count * 16);
        for (var i = 0; i < creations.Count; i++)
        {
            var fields = RedisLayout.SignatureFields(creations[i].Signature);
            keys[i] = _layout.Signature(creations[i].Signature.Id);
            values.Add(creations[i].TtlMs);
            values.Add(fields.Count);
            values.AddRange(fields);
        }
        var db = await DatabaseAsync(CancellationToken.None).ConfigureAwait(false);
        await CreateSignatureScript.RunAsync(db, keys, values.ToArray()).ConfigureAwait(false);
        return Enumerable.Repeat(true, creations.Count).ToArray(); // created
    }

    private readonly record struct Creation(SignatureRecord Signature, long TtlMs);

    public async Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var entries = await db.HashGetAllAsync(_layout.Signature(id)).ConfigureAwait(false);
        if (entries.Length == 0) return null;
        var flat = new RedisValue[entries.Length * 2];
        for (var i = 0; i < entries.Length; i++)
        {
            flat[2 * i] = entries[i].Name;
            flat[2 * i + 1] = entries[i].Value;
        }
        return RedisLayout.ParseSignature(id, flat);
    }

    public async Task<bool> UpdateKwargsAsync(string id, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kwargs);
        var values = new RedisValue[kwargs.Count * 2];
        for (var i = 0; i < kwargs.Count; i++)
        {
            ArgumentException.ThrowIfNullOrEmpty(kwargs[i].Key, nameof(kwargs));
            values[2 * i] = kwargs[i].Key;
            values[2 * i + 1] = kwargs[i].Value;
        }
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var updated = await UpdateKwargsScript.RunAsync(db, [_layout.Signature(id)], values).ConfigureAwait(false);
        return (int)updated == 1;
    }

    public async Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await db.StreamAddAsync(_layout.Queue(taskName), RedisLayout.EntryFields(envelope)).ConfigureAwait(false);
    }

    public async Task<bool> SetStatusAsync(string id, SignatureStatus status, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var set = await SetStatusScript.RunAsync(db, [_layout.Signature(id)], [(int)status]).ConfigureAwait(false);
        return (int)set == 1;
    }

    // ---- task definitions ----

    public async Task RegisterTaskDefinitionsAsync(IReadOnlyCollection<TaskDefinition> definitions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        if (definitions.Count == 0) return;
        var entries = definitions.Select(d => new HashEntry(d.Name, RedisLayout.DefinitionValue(d))).ToArray();
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await db.HashSetAsync(_layout.TaskDefinitions, entries).ConfigureAwait(false);
    }

    public async Task<TaskDefinition?> GetTaskDefinitionAsync(string name, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var value = await db.HashGetAsync(_layout.TaskDefinitions, name).ConfigureAwait(false);
        return value.IsNull ? null : RedisLayout.ParseDefinition(name, (byte[])value!);
    }

    // ---- delivery ----

    public async Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(taskNames.Select(async name =>
        {
            try
            {
                // From id 0, so entries queued before any worker created the group are delivered too.
                await db.StreamCreateConsumerGroupAsync(_layout.Queue(name), _group, "0", createStream: true).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                // Exists already.
            }
        })).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Delivery>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        cancellationToken.ThrowIfCancellationRequested();
        if (taskNames.Count == 0 || maxCount < 1) return [];

        var readAhead = TakeReadAhead(consumer, taskNames, maxCount);
        if (readAhead.Count > 0) return readAhead;

        var reader = await BlockingDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await _readGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var read = ReadAndReleaseGateAsync(reader, taskNames, consumer, maxCount, wait);
        List<Delivery> deliveries;
        try
        {
            deliveries = await read.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The read still completes on the server; keep what it takes for this consumer's next read.
            _abandonedRead = KeepForNextReadAsync(read, consumer);
            throw;
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            // A queue or its group was deleted under us: recreate and read again next time.
            await PrepareQueuesAsync(taskNames, cancellationToken).ConfigureAwait(false);
            return [];
        }

        if (deliveries.Count <= maxCount) return deliveries;
        // COUNT applies per stream: hand out maxCount, keep the rest (already pending for this consumer).
        AddReadAhead(consumer, deliveries.GetRange(maxCount, deliveries.Count - maxCount));
        return deliveries.GetRange(0, maxCount);
    }

    private async Task<List<Delivery>> ReadAndReleaseGateAsync(IDatabase reader, IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait)
    {
        try
        {
            var arguments = new List<object>(8 + taskNames.Count * 2) { "GROUP", RedisLayout.ConsumerGroup, consumer, "COUNT", maxCount };
            if (wait > TimeSpan.Zero)
            {
                // Below the connection's timeout, so a quiet queue never looks like a dead connection.
                var blockMs = (long)Math.Clamp(Math.Ceiling(wait.TotalMilliseconds), 1, _blockLimitMs);
                arguments.Add("BLOCK");
                arguments.Add(blockMs);
            }
            arguments.Add("STREAMS");
            foreach (var name in taskNames) arguments.Add(_layout.Queue(name));
            foreach (var _ in taskNames) arguments.Add(">");
            var reply = await reader.ExecuteAsync("XREADGROUP", arguments).ConfigureAwait(false);
            return ParseReadReply(reply);
        }
        finally
        {
            _readGate.Release();
        }
    }

    private async Task KeepForNextReadAsync(Task<List<Delivery>> read, string consumer)
    {
        try
        {
            var deliveries = await read.ConfigureAwait(false);
            if (deliveries.Count > 0) AddReadAhead(consumer, deliveries);
        }
        catch (Exception ex)
        {
            // Whatever it took stays pending and is reclaimed after the visibility timeout.
            RedisLog.AbandonedReadFailed(_logger, ex);
        }
    }

    /// <summary>Parses an XREADGROUP reply: per stream, <c>[key, [[id, [field, value, ...]], ...]]</c> (a map under RESP3).</summary>
    private List<Delivery> ParseReadReply(RedisResult reply)
    {
        var deliveries = new List<Delivery>();
        if (reply.IsNull || reply.Resp2Type != ResultType.Array) return deliveries;
        if (reply.Resp3Type == ResultType.Map)
        {
            for (var i = 0; i + 1 < reply.Length; i += 2) AddStreamEntries(deliveries, reply[i], reply[i + 1]);
        }
        else
        {
            for (var i = 0; i < reply.Length; i++)
                if (reply[i].Length >= 2) AddStreamEntries(deliveries, reply[i][0], reply[i][1]);
        }
        return deliveries;
    }

    private void AddStreamEntries(List<Delivery> deliveries, RedisResult streamKey, RedisResult entries)
    {
        var key = (string?)streamKey ?? "";
        var taskName = _layout.TaskNameOfQueue(key) ?? key;
        if (entries.IsNull || entries.Resp2Type != ResultType.Array) return;
        for (var i = 0; i < entries.Length; i++) deliveries.Add(RedisLayout.ParseEntry(taskName, entries[i]));
    }

    public async Task<IReadOnlyList<Delivery>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var minIdleMs = (long)Math.Max(0, minIdle.TotalMilliseconds);
        var reclaimed = new List<Delivery>();
        foreach (var name in taskNames)
        {
            if (reclaimed.Count >= maxCount) break;
            cancellationToken.ThrowIfCancellationRequested();
            var queue = _layout.Queue(name);
            var cursor = _reclaimCursors.GetValueOrDefault(name, "0-0");
            RedisResult reply;
            try
            {
                reply = await db.ExecuteAsync("XAUTOCLAIM", queue, _group, consumer, minIdleMs, cursor, "COUNT", maxCount - reclaimed.Count).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                continue; // nothing was ever read from this queue
            }
            if (reply.Resp2Type != ResultType.Array || reply.Length < 2) continue;
            _reclaimCursors[name] = (string?)reply[0] ?? "0-0";
            var entries = reply[1];
            for (var i = 0; i < entries.Length; i++) reclaimed.Add(RedisLayout.ParseEntry(name, entries[i]));
            if (reply.Length >= 3 && reply[2].Length > 0)
            {
                // Entries whose data was deleted: nothing to run; make sure they leave the pending list.
                var deleted = (RedisValue[])reply[2]!;
                await db.StreamAcknowledgeAsync(queue, _group, deleted).ConfigureAwait(false);
            }
        }
        return reclaimed;
    }

    public async Task KeepAliveAsync(IReadOnlyCollection<Delivery> inFlight, string consumer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inFlight);
        if (inFlight.Count == 0) return;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        // XCLAIM with min-idle 0 and JUSTID resets the idle time without counting a delivery.
        await Task.WhenAll(inFlight
            .Where(d => d.EntryId.Length > 0)
            .GroupBy(d => d.TaskName, StringComparer.Ordinal)
            .Select(g => db.StreamClaimIdsOnlyAsync(_layout.Queue(g.Key), _group, consumer, 0, g.Select(d => (RedisValue)d.EntryId).ToArray())))
            .ConfigureAwait(false);
    }

    public async Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken)
    {
        if (maxCount < 1) return 0;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var moved = await PromoteDueScript.RunAsync(db, [_layout.Delayed], [now.ToUnixTimeMilliseconds(), maxCount, _layout.Prefix]).ConfigureAwait(false);
        return (int)moved;
    }

    // ---- transitions ----

    public Task<StartOutcome> StartAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        EnvelopeOf(delivery);
        return _starts.RunAsync(delivery);
    }

    private async Task<StartOutcome[]> StartBatchAsync(IReadOnlyList<Delivery> deliveries)
    {
        var keys = new RedisKey[deliveries.Count * 2];
        var values = new RedisValue[deliveries.Count + 1];
        values[0] = _group;
        for (var i = 0; i < deliveries.Count; i++)
        {
            keys[2 * i] = _layout.Signature(deliveries[i].Envelope!.SignatureId);
            keys[2 * i + 1] = _layout.Queue(deliveries[i].TaskName);
            values[1 + i] = deliveries[i].EntryId;
        }
        var db = await DatabaseAsync(CancellationToken.None).ConfigureAwait(false);
        var replies = (RedisResult[])(await StartScript.RunAsync(db, keys, values).ConfigureAwait(false))!;
        var outcomes = new StartOutcome[deliveries.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            var reply = replies[i];
            var id = deliveries[i].Envelope!.SignatureId;
            outcomes[i] = (int)reply[0] switch
            {
                0 => new StartOutcome(StartResult.Missing, null),
                1 => new StartOutcome(StartResult.Started, RedisLayout.ParseSignature(id, reply[1])),
                _ => new StartOutcome(StartResult.NotRunnable, RedisLayout.ParseSignature(id, reply[1])),
            };
        }
        return outcomes;
    }

    public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, TimeSpan doneTtl, CancellationToken cancellationToken)
    {
        EnvelopeOf(delivery);
        return _completions.RunAsync(new Completion(delivery, resultJson, DoneTtlMilliseconds(doneTtl)));
    }

    private async Task<FinishOutcome[]> CompleteBatchAsync(IReadOnlyList<Completion> completions)
    {
        var keys = new RedisKey[completions.Count * 2];
        var values = new RedisValue[2 + completions.Count * 3];
        values[0] = _group;
        values[1] = _layout.Prefix;
        for (var i = 0; i < completions.Count; i++)
        {
            var (delivery, result, doneTtlMs) = completions[i];
            keys[2 * i] = _layout.Signature(delivery.Envelope!.SignatureId);
            keys[2 * i + 1] = _layout.Queue(delivery.TaskName);
            values[2 + 3 * i] = delivery.EntryId;
            values[3 + 3 * i] = doneTtlMs;
            values[4 + 3 * i] = result;
        }
        var db = await DatabaseAsync(CancellationToken.None).ConfigureAwait(false);
        var replies = (RedisResult[])(await CompleteScript.RunAsync(db, keys, values).ConfigureAwait(false))!;
        return replies.Select(FinishOutcomeOf).ToArray();
    }

    private readonly record struct Completion(Delivery Delivery, ReadOnlyMemory<byte> Result, long DoneTtlMs);

    public async Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, TimeSpan doneTtl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var envelope = EnvelopeOf(delivery);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var reply = await FailScript.RunAsync(db,
            [_layout.Signature(envelope.SignatureId), _layout.Queue(delivery.TaskName)],
            [_group, delivery.EntryId, _layout.Prefix, DoneTtlMilliseconds(doneTtl), failedInput, failure.SignatureId, failure.TaskName, failure.Error]).ConfigureAwait(false);
        return FinishOutcomeOf(reply);
    }

    public async Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, CancellationToken cancellationToken)
    {
        EnvelopeOf(delivery);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await RetryLaterScript.RunAsync(db,
            [_layout.Queue(delivery.TaskName), _layout.Delayed],
            [_group, delivery.EntryId, due.ToUnixTimeMilliseconds(), delivery.TaskName]).ConfigureAwait(false);
    }

    public async Task AcknowledgeAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (delivery.EntryId.Length == 0) return;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await AcknowledgeScript.RunAsync(db, [_layout.Queue(delivery.TaskName)], [_group, delivery.EntryId]).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_abandonedRead is { } abandoned)
            await abandoned.WaitAsync(TimeSpan.FromMilliseconds(_blockLimitMs + 1000)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await ReleaseReadAheadAsync().ConfigureAwait(false);
        foreach (var connection in new[] { _blocking, _main })
        {
            if (connection is null) continue;
            try
            {
                await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        _connectGate.Dispose();
    }

    // ---- helpers ----

    private static Envelope EnvelopeOf(Delivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        return delivery.Envelope ?? throw new ArgumentException($"Entry {delivery.EntryId} of queue '{delivery.TaskName}' is malformed ({delivery.Malformed}); only acknowledge it.", nameof(delivery));
    }

    private static FinishOutcome FinishOutcomeOf(RedisResult reply)
    {
        var items = (RedisResult[])reply!;
        if ((int)items[0] != 1) return new FinishOutcome(false, []);
        var missing = new string[items.Length - 1];
        for (var i = 1; i < items.Length; i++) missing[i - 1] = (string)items[i]!;
        return new FinishOutcome(true, missing);
    }

    /// <summary>PEXPIRE needs a positive value; a zero or negative TTL expires at once.</summary>
    private static long ExpiryMilliseconds(TimeSpan ttl) => Math.Max(1, (long)Math.Ceiling(ttl.TotalMilliseconds));

    /// <summary>0 tells the scripts to delete.</summary>
    private static long DoneTtlMilliseconds(TimeSpan doneTtl) => doneTtl <= TimeSpan.Zero ? 0 : ExpiryMilliseconds(doneTtl);

    private List<Delivery> TakeReadAhead(string consumer, IReadOnlyCollection<string> taskNames, int maxCount)
    {
        lock (_readAheadGate)
        {
            if (!_readAhead.TryGetValue(consumer, out var kept)) return [];
            var served = taskNames as ISet<string> ?? new HashSet<string>(taskNames, StringComparer.Ordinal);
            var taken = new List<Delivery>();
            for (var i = 0; i < kept.Count && taken.Count < maxCount;)
            {
                if (served.Contains(kept[i].TaskName))
                {
                    taken.Add(kept[i]);
                    kept.RemoveAt(i);
                }
                else i++;
            }
            if (kept.Count == 0) _readAhead.Remove(consumer);
            return taken;
        }
    }

    private void AddReadAhead(string consumer, List<Delivery> deliveries)
    {
        lock (_readAheadGate)
        {
            if (!_readAhead.TryGetValue(consumer, out var kept)) _readAhead[consumer] = kept = [];
            kept.AddRange(deliveries);
        }
    }

    /// <summary>
    /// At shutdown, entries read but never handed out are marked long idle (XCLAIM … TIME 1), so the next
    /// reclaim by any worker takes them at once instead of after the visibility timeout.
    /// </summary>
    private async Task ReleaseReadAheadAsync()
    {
        List<(string Consumer, Delivery Delivery)> kept;
        lock (_readAheadGate)
        {
            kept = _readAhead.SelectMany(pair => pair.Value.Select(d => (pair.Key, d))).ToList();
            _readAhead.Clear();
        }
        if (kept.Count == 0 || _database is not { } db) return;
        try
        {
            await Task.WhenAll(kept
                .Where(k => k.Delivery.EntryId.Length > 0)
                .GroupBy(k => (k.Consumer, k.Delivery.TaskName))
                .Select(g =>
                {
                    var arguments = new List<object> { _layout.Queue(g.Key.TaskName), RedisLayout.ConsumerGroup, g.Key.Consumer, 0 };
                    arguments.AddRange(g.Select(k => (object)k.Delivery.EntryId));
                    arguments.AddRange(["TIME", 1, "JUSTID"]);
                    return db.ExecuteAsync("XCLAIM", arguments);
                })).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            RedisLog.ReleaseReadAheadFailed(_logger, ex, kept.Count);
        }
    }

    // ---- connections ----

    private ValueTask<IDatabase> DatabaseAsync(CancellationToken cancellationToken) =>
        _database is { } database ? new(database) : new(ConnectMainAsync(cancellationToken));

    private async Task<IDatabase> ConnectMainAsync(CancellationToken cancellationToken)
    {
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_database is { } ready) return ready;
            var connection = await ConnectAsync(_configuration.Clone(), "commands").ConfigureAwait(false);
            await PreloadScriptsAsync(connection).ConfigureAwait(false);
            _main = connection;
            return _database = connection.GetDatabase(_options.Database);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task<IDatabase> BlockingDatabaseAsync(CancellationToken cancellationToken)
    {
        if (_blockingDatabase is { } database) return database;
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_blockingDatabase is { } ready) return ready;
            var configuration = _configuration.Clone();
            configuration.AsyncTimeout = Math.Max(configuration.AsyncTimeout, MinBlockingTimeoutMs);
            configuration.SyncTimeout = Math.Max(configuration.SyncTimeout, MinBlockingTimeoutMs);
            _blockLimitMs = configuration.AsyncTimeout / 2;
            var connection = await ConnectAsync(configuration, "blocking reads").ConfigureAwait(false);
            _blocking = connection;
            return _blockingDatabase = connection.GetDatabase(_options.Database);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration, string purpose)
    {
        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            RedisLog.Connected(_logger, _configurationForMessages, purpose);
            return connection;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None,
                $"MageFlow could not connect to Redis at '{_configurationForMessages}' (RedisBackendOptions.Configuration) for {purpose}: {ex.Message}", ex, CommandStatus.Unknown);
        }
    }

    /// <summary>Loads every script up front so the first transitions already run by hash.</summary>
    private async Task PreloadScriptsAsync(ConnectionMultiplexer connection)
    {
        foreach (var endPoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endPoint);
            if (!server.IsConnected || server.IsReplica) continue;
            try
            {
                await Task.WhenAll(AllScripts.Select(s => server.ScriptLoadAsync(s.Source))).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or RedisCommandException or TimeoutException)
            {
                // Not fatal: a script missing from the cache is sent with EVAL on first use.
                RedisLog.ScriptPreloadFailed(_logger, ex, endPoint.ToString() ?? "?");
            }
        }
    }

    private static partial class RedisLog
    {
        [LoggerMessage(100, LogLevel.Information, "Connected to Redis at {Configuration} for {Purpose}")]
        public static partial void Connected(ILogger logger, string configuration, string purpose);

        [LoggerMessage(101, LogLevel.Warning, "Could not preload the MageFlow Lua scripts on {EndPoint}; they are sent on first use")]
        public static partial void ScriptPreloadFailed(ILogger logger, Exception exception, string endPoint);

        [LoggerMessage(102, LogLevel.Warning, "A read abandoned on cancellation failed; entries it took are reclaimed after the visibility timeout")]
        public static partial void AbandonedReadFailed(ILogger logger, Exception exception);

        [LoggerMessage(103, LogLevel.Warning, "Could not release {Count} read-ahead entries at shutdown; they are reclaimed after the visibility timeout")]
        public static partial void ReleaseReadAheadFailed(ILogger logger, Exception exception, int count);
    }
}
