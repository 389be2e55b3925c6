using MageFlow.Signatures;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// The Redis backend: signatures as packed records (<see cref="PackedRecord"/>), one stream and consumer group per task, delayed retries in a
/// sorted set, and every state transition as one Lua script (one round trip, rule 17). Mirrors
/// <see cref="InMemory.InMemoryBackend"/> exactly. This file holds signatures, definitions and transitions;
/// reading from the streams is in <c>RedisBackend.Reading.cs</c>, connections in <c>RedisBackend.Connections.cs</c>.
/// All keys share one hash tag (<see cref="RedisLayout"/>), so the scripts may touch callback keys they only learn
/// while running, on one Redis or a Redis Cluster alike.
/// </summary>
internal sealed partial class RedisBackend : IMageBackend
{
    /// <summary>Most runs one transition script call carries: bounds the time Redis spends in one script.</summary>
    private const int MaxTransitionBatch = 64;

    /// <summary>Most payload bytes one batched script call carries (a single item may be larger, up to the payload limit).</summary>
    private const long MaxTransitionBatchBytes = 16L * 1024 * 1024;

    /// <summary>How long signing waits for a dropped connection to come back before it fails.</summary>
    private static readonly TimeSpan ReconnectWait = TimeSpan.FromSeconds(5);

    private static readonly RedisScript UpdateKwargsScript = RedisScript.FromResource("update_kwargs");
    private static readonly RedisScript DispatchScript = RedisScript.FromResource("dispatch");
    private static readonly RedisScript CreateContainerScript = RedisScript.FromResource("create_container");
    private static readonly RedisScript SwarmAddScript = RedisScript.FromResource("swarm_add");
    private static readonly RedisScript SwarmCloseScript = RedisScript.FromResource("swarm_close");
    private static readonly RedisScript LifecycleScript = RedisScript.FromResource("lifecycle");
    private static readonly RedisScript ParkScript = RedisScript.FromResource("park");
    private static readonly RedisScript StartScript = RedisScript.FromResource("start");
    private static readonly RedisScript CompleteScript = RedisScript.FromResource("complete");
    private static readonly RedisScript FailScript = RedisScript.FromResource("fail");
    private static readonly RedisScript RetryLaterScript = RedisScript.FromResource("retry_later");
    private static readonly RedisScript ReleaseScript = RedisScript.FromResource("release");
    private static readonly RedisScript PromoteDueScript = RedisScript.FromResource("promote_due");
    private static readonly RedisScript AcknowledgeScript = RedisScript.FromResource("acknowledge");
    private static readonly RedisScript KeepAliveScript = RedisScript.FromResource("keep_alive");
    private static readonly RedisScript TrimQueuesScript = RedisScript.FromResource("trim_queues");
    private static readonly RedisScript OldestUnacknowledgedScript = RedisScript.FromResource("oldest_unacknowledged");
    private static readonly RedisScript RemoveIdleConsumersScript = RedisScript.FromResource("remove_idle_consumers");
    private static readonly RedisScript ClaimChildrenScript = RedisScript.FromResource("claim_children");
    private static readonly RedisScript ApplyScript = RedisScript.FromResource("apply");

    private readonly RedisBackendOptions _options;
    private readonly ILogger<RedisBackend> _logger;
    private readonly RedisLayout _layout;
    private readonly RedisValue _group = RedisLayout.ConsumerGroup;

    // Concurrent calls share round trips: runs started and runs completed together go in one script call per kind
    // and partition (a call touches one partition: one slot of a cluster). A signature is one SET of its own.
    private readonly TransitionBatcher<Start, StartOutcome>[] _starts;
    private readonly TransitionBatcher<Completion, FinishOutcome>[] _completions;

    public RedisBackend(RedisBackendOptions options, ILogger<RedisBackend> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.KeyPrefix, "options.KeyPrefix");
        _options = options;
        _logger = logger;
        (_configuration, _configurationForMessages) = ParseConfiguration(options);
        _layout = new RedisLayout(options.KeyPrefix, options.Partitions);
        _blocking = new ConnectionMultiplexer?[_layout.Partitions.Count];
        _blockingDatabases = new IDatabase?[_layout.Partitions.Count];
        var partitions = Enumerable.Range(0, _layout.Partitions.Count).ToArray();
        _starts = partitions.Select(_ => new TransitionBatcher<Start, StartOutcome>(StartBatchAsync, MaxTransitionBatch)).ToArray();
        _completions = partitions.Select(_ => new TransitionBatcher<Completion, FinishOutcome>(CompleteBatchAsync, MaxTransitionBatch, c => c.Result.Length, MaxTransitionBatchBytes)).ToArray();
    }

    public string StoreId => $"Redis at {_configurationForMessages}, database {_options.Database}, key prefix '{_options.KeyPrefix}'";

    public string NewSignatureId(IReadOnlyList<string> related) => _layout.Partitions.NewId(related);

    /// <summary>The partition an id names; an id this store cannot hold (made up, or of another partition count) is refused by name.</summary>
    private int PartitionOf(string id) => _layout.Partitions.IndexOf(id) is var partition and >= 0
        ? partition
        : throw new ArgumentException($"Signature id '{id}' names a partition this store does not have ({_layout.Partitions.Count} partitions, RedisBackendOptions.Partitions): it was not made by this store's MageFlow.", nameof(id));

    // ---- signatures ----

    /// <summary>
    /// One <c>SET … PX … NX GET</c> of the packed record: atomic with its expiry, so no signature is ever left without
    /// its TTL; never over another value at its key (a key MageFlow did not write fails this signing alone); and safe to
    /// repeat while the connection drops and comes back (finding its own record, the repeat succeeds).
    /// </summary>
    public async Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signature);
        PartitionOf(signature.Id);
        // Encoded before any call, so a signature that cannot be stored fails its caller alone.
        RedisValue record = RedisLayout.PackSignature(signature);
        var key = _layout.Signature(signature.Id);
        var expiry = TimeSpan.FromMilliseconds(ExpiryMilliseconds(ttl));
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        RedisValue found;
        try
        {
            found = await RetryWhileReconnectingAsync(() => SlotMigration.RetryAsync(() => db.StringSetAndGetAsync(key, record, (TimeSpan?)expiry, When.NotExists, CommandFlags.None))).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Signature {signature.Id} cannot be stored: its key {key} holds a value of another type, not written by MageFlow; other signatures are not affected.", ex);
        }
        if (!found.IsNull && found != record)
            throw new InvalidDataException($"Signature {signature.Id} cannot be stored: its key {key} already holds a value MageFlow did not write for it (left as it is); other signatures are not affected.");
    }

    /// <summary>
    /// Repeats a write that is safe to repeat (signing: the same record and TTL again) while the connection drops and
    /// comes back, for a few seconds; after that the caller gets the connection's error.
    /// </summary>
    private static async Task<T> RetryWhileReconnectingAsync<T>(Func<Task<T>> write)
    {
        var giveUpAt = DateTime.UtcNow + ReconnectWait;
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            try
            {
                return await write().ConfigureAwait(false);
            }
            // The same errors a worker's transitions are repeated on (OutcomeApplier.IsTransient).
            catch (Exception ex) when (Execution.OutcomeApplier.IsTransient(ex) && DateTime.UtcNow + pause < giveUpAt)
            {
                await Task.Delay(pause).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromMilliseconds(500).Ticks));
            }
        }
    }

    public async Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        RedisValue record;
        try
        {
            record = await db.StringGetAsync(_layout.Signature(id)).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"The stored signature {id} is corrupt: its key {_layout.Signature(id)} does not hold a MageFlow signature record; it was not written by MageFlow.", ex);
        }
        return record.IsNull ? null : RedisLayout.ParseSignature(id, ((ReadOnlyMemory<byte>)record).Span);
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
        var updated = (int)await UpdateKwargsScript.RunAsync(db, [_layout.Signature(id)], values).ConfigureAwait(false);
        if (updated < 0)
            throw new InvalidDataException($"The stored signature {id} is corrupt: its key {_layout.Signature(id)} does not hold a MageFlow signature record; nothing was changed.");
        return updated == 1;
    }

    public Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        // Connected (the common case): the XADD's own task is returned, without a state machine per dispatch.
        var queue = _layout.Queue(PartitionOf(envelope.SignatureId), taskName);
        var connecting = DatabaseAsync(cancellationToken);
        return connecting.IsCompletedSuccessfully
            ? connecting.Result.ExecuteAsync("XADD", StreamEntries.AddArguments(queue, envelope))
            : AddWhenConnectedAsync(connecting, queue, envelope);
    }

    private static async Task AddWhenConnectedAsync(ValueTask<IDatabase> connecting, RedisKey queue, Envelope envelope)
    {
        var db = await connecting.ConfigureAwait(false);
        await db.ExecuteAsync("XADD", StreamEntries.AddArguments(queue, envelope)).ConfigureAwait(false);
    }

    public async Task<SignatureStatus?> DispatchSignatureAsync(Envelope envelope, bool awaited, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var fields = new object[2 * StreamEntries.FieldCount(envelope)];
        StreamEntries.WriteFields(envelope, fields, 0);
        var values = new List<RedisValue>(6 + fields.Length)
        {
            _layout.Prefix, awaited ? "1" : "0", ExpiryMilliseconds(lifetimes.Active), DoneTtlMilliseconds(lifetimes.Done),
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), envelope.SignatureId,
        };
        // The script adds the signature id itself: a container's run is re-addressed to its step or items.
        for (var i = 0; i < fields.Length; i += 2)
        {
            if ((string)fields[i] != RedisLayout.EntrySignatureId) values.AddRange([RedisValue.Unbox(fields[i]), RedisValue.Unbox(fields[i + 1])]);
        }
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var status = (int)await DispatchScript.RunAsync(db, [_layout.Signature(envelope.SignatureId)], values.ToArray()).ConfigureAwait(false);
        return status < 0 ? null : (SignatureStatus)status;
    }

    public async Task<string?> CreateContainerAsync(SignatureRecord container, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var ttlMs = ExpiryMilliseconds(ttl);
        var (claimed, refused) = await ClaimElsewhereAsync(db, container.Id, container.ChildIds, "step", ttlMs).ConfigureAwait(false);
        if (refused is { } problem) return problem.Text;
        var values = new List<RedisValue> { _layout.Prefix, ttlMs, container.Id, container.ChildIds.Count };
        values.AddRange(container.ChildIds.Select(id => (RedisValue)id));
        values.Add(RedisLayout.PackSignature(container));
        var reply = await CreateContainerScript.RunAsync(db, [_layout.Signature(container.Id)], values.ToArray()).ConfigureAwait(false);
        if ((int)reply[0] == 1) return null;
        await ReleaseClaimsAsync(db, container.Id, claimed).ConfigureAwait(false);
        return (string?)reply[1];
    }

    public async Task<SwarmChange> AddToSwarmAsync(string swarmId, IReadOnlyList<SwarmItem> items, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var activeMs = ExpiryMilliseconds(lifetimes.Active);
        var (claimed, refused) = await ClaimElsewhereAsync(db, swarmId, items.Select(item => item.Id).ToArray(), "item", activeMs).ConfigureAwait(false);
        if (refused is { } problem)
            return new SwarmChange(problem.Kind == "item-missing" ? SwarmChangeResult.ItemMissing : SwarmChangeResult.ItemTaken, problem.ChildId);
        var values = new RedisValue[7 + items.Count * 2];
        values[0] = _layout.Prefix;
        values[1] = activeMs;
        values[2] = DoneTtlMilliseconds(lifetimes.Done);
        values[3] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        values[4] = swarmId;
        values[5] = items.Count;
        for (var i = 0; i < items.Count; i++)
        {
            values[6 + 2 * i] = items[i].Id;
            values[7 + 2 * i] = items[i].Message ?? [];
        }
        values[^1] = MageFlowTelemetry.CurrentTraceParent() ?? "";
        var reply = await SwarmAddScript.RunAsync(db, [_layout.Signature(swarmId)], values).ConfigureAwait(false);
        var change = (string?)reply[0] switch
        {
            "ok" => new SwarmChange(SwarmChangeResult.Done),
            "closed" => new SwarmChange(SwarmChangeResult.Closed, (string?)reply[1]),
            "full" => new SwarmChange(SwarmChangeResult.Full, Added: (int)reply[1]),
            "item-missing" => new SwarmChange(SwarmChangeResult.ItemMissing, (string?)reply[1]),
            "item-taken" => new SwarmChange(SwarmChangeResult.ItemTaken, (string?)reply[1]),
            _ => new SwarmChange(SwarmChangeResult.SwarmMissing),
        };
        if (change.Result != SwarmChangeResult.Done) await ReleaseClaimsAsync(db, swarmId, claimed).ConfigureAwait(false);
        return change;
    }

    /// <summary>Why a child cannot join a container: the reply kind (item-missing, item-taken), the child, the text.</summary>
    private readonly record struct ClaimProblem(string Kind, string ChildId, string Text);

    /// <summary>
    /// Claims the steps or items that live in other partitions than their container, one call per partition, all or
    /// none: the container's own script then checks and claims those of its partition. A refusal hands back what was claimed.
    /// </summary>
    private async Task<(List<(int Partition, string[] Ids)> Claimed, ClaimProblem? Refused)> ClaimElsewhereAsync(
        IDatabase db, string containerId, IReadOnlyList<string> childIds, string mode, long activeMs)
    {
        var home = PartitionOf(containerId);
        var claimed = new List<(int Partition, string[] Ids)>();
        foreach (var group in childIds.Where(id => PartitionOf(id) != home).Distinct().GroupBy(PartitionOf))
        {
            var ids = group.ToArray();
            var reply = await ClaimChildrenAsync(db, mode, containerId, activeMs, ids).ConfigureAwait(false);
            if ((int)reply[0] != 1)
            {
                await ReleaseClaimsAsync(db, containerId, claimed).ConfigureAwait(false);
                return (claimed, new ClaimProblem((string)reply[1]!, (string)reply[2]!, (string)reply[3]!));
            }
            claimed.Add((group.Key, ids));
        }
        return (claimed, null);
    }

    private async Task ReleaseClaimsAsync(IDatabase db, string containerId, List<(int Partition, string[] Ids)> claimed)
    {
        foreach (var (_, ids) in claimed) await ClaimChildrenAsync(db, "release", containerId, 0, ids).ConfigureAwait(false);
        claimed.Clear();
    }

    /// <summary>One claim_children.lua call over children of one partition: claim them as steps or items, or release them.</summary>
    private Task<RedisResult> ClaimChildrenAsync(IDatabase db, string mode, string containerId, long activeMs, string[] ids)
    {
        var values = new RedisValue[3 + ids.Length];
        values[0] = mode;
        values[1] = containerId;
        values[2] = activeMs;
        for (var i = 0; i < ids.Length; i++) values[3 + i] = ids[i];
        return ClaimChildrenScript.RunAsync(db, ids.Select(id => _layout.Signature(id)).ToArray(), values);
    }

    public async Task<SwarmChange> CloseSwarmAsync(string swarmId, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var closed = (int)await SwarmCloseScript.RunAsync(db, [_layout.Signature(swarmId)],
            [_layout.Prefix, ExpiryMilliseconds(lifetimes.Active), DoneTtlMilliseconds(lifetimes.Done), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), swarmId,
             MageFlowTelemetry.CurrentTraceParent() ?? ""]).ConfigureAwait(false);
        return new SwarmChange(closed == 1 ? SwarmChangeResult.Done : SwarmChangeResult.SwarmMissing);
    }

    public async Task<LifecycleChange> ChangeLifecycleAsync(string id, LifecycleAction action, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var reply = await LifecycleScript.RunAsync(db, [_layout.Signature(id)],
        [
            action.ToString().ToLowerInvariant(), _layout.Prefix, DoneTtlMilliseconds(lifetimes.Done), ExpiryMilliseconds(lifetimes.Active),
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), id, MageFlowTelemetry.CurrentTraceParent() ?? "",
        ]).ConfigureAwait(false);
        return (int)reply[0] == 0
            ? new LifecycleChange(false, default, default)
            : new LifecycleChange(true, (SignatureStatus)(int)reply[1], (SignatureStatus)(int)reply[2]);
    }

    public async IAsyncEnumerable<SignatureRecord> ListSignaturesAsync(SignatureQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var returned = 0;
        // Every primary: on a Redis Cluster each node scans only its own slots.
        foreach (var (server, pattern) in _main!.GetServers().Where(server => !server.IsReplica).SelectMany(server => _layout.SignaturePatterns.Select(pattern => (server, pattern))))
        {
            // SCAN, not KEYS: the server stays responsive however many signatures there are.
            await foreach (var page in server.KeysAsync(_options.Database, pattern, pageSize: 1000).Chunk(1000).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var reads = page.Select(key => ReadListedAsync(db, key)).ToArray();
                foreach (var read in reads)
                {
                    var record = await read.ConfigureAwait(false);
                    if (record is null
                        || (query.Status is { } status && record.Status != status)
                        || (query.TaskName is { } task && record.TaskName != task)) continue;
                    yield return record;
                    if (++returned >= query.Limit) yield break;
                }
            }
        }
    }

    /// <summary>A listed signature; null when it expired since the scan or is not one MageFlow can read.</summary>
    private async Task<SignatureRecord?> ReadListedAsync(IDatabase db, RedisKey key)
    {
        try
        {
            var record = await db.StringGetAsync(key).ConfigureAwait(false);
            return record.IsNull ? null : RedisLayout.ParseSignature(RedisLayout.SignatureIdOf(key!), ((ReadOnlyMemory<byte>)record).Span);
        }
        catch (Exception ex) when (ex is InvalidDataException || (ex is RedisServerException server && server.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal)))
        {
            return null; // listing skips what it cannot read; GetSignatureAsync on that id says why
        }
    }

    public async Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onSignal);
        await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var subscriber = _main!.GetSubscriber();
        var channel = _layout.Channel(kind);
        Action<RedisChannel, RedisValue> handler = (_, id) =>
        {
            if (!id.IsNullOrEmpty) onSignal((string)id!);
        };
        // StackExchange.Redis subscribes again by itself after a reconnect; messages sent meanwhile are lost, which
        // is why every user of signals also reads the state.
        await subscriber.SubscribeAsync(channel, handler).ConfigureAwait(false);
        return new Subscription(subscriber, channel, handler);
    }

    private sealed class Subscription(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await subscriber.UnsubscribeAsync(channel, handler).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                // The connection is gone or going: so is the subscription.
            }
        }
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

    // ---- transitions ----

    public Task<StartOutcome> StartAsync(Delivery delivery, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        return _starts[delivery.Partition].RunAsync(new Start(delivery, ExpiryMilliseconds(activeTtl))).AsTask();
    }

    private readonly record struct Start(Delivery Delivery, long ActiveTtlMs);

    private async Task<ItemResult<StartOutcome>[]> StartBatchAsync(IReadOnlyList<Start> starts)
    {
        var arguments = StartScript.Arguments(starts.Count * 2, 3 + starts.Count * 2);
        for (var i = 0; i < starts.Count; i++)
        {
            arguments.KeyInParts(_layout.Signature(starts[i].Delivery.Envelope.SignatureId));
            arguments.Key(_layout.Queue(starts[i].Delivery));
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        arguments.Values(_group, _layout.Prefix, now);
        for (var i = 0; i < starts.Count; i++)
        {
            var (delivery, activeTtlMs) = starts[i];
            arguments.Value(delivery.EntryId);
            arguments.Value(activeTtlMs);
        }
        var db = await DatabaseAsync(CancellationToken.None).ConfigureAwait(false);
        var replies = (RedisResult[])(await StartScript.RunAsync(db, arguments).ConfigureAwait(false))!;
        var outcomes = new ItemResult<StartOutcome>[starts.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            var id = starts[i].Delivery.Envelope.SignatureId;
            try
            {
                outcomes[i] = ItemResult<StartOutcome>.Of(StartReply.Parse(id, ((ReadOnlyMemory<byte>)(RedisValue)replies[i]).Span));
            }
            catch (Exception ex) when (ex is InvalidDataException or InvalidCastException or RedisException)
            {
                outcomes[i] = ItemResult<StartOutcome>.Failed(ex);
            }
        }
        return outcomes;
    }

    public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
        QueueCompletion(delivery, resultJson, lifetimes, offer: null).AsTask();

    public ValueTask<FinishOutcome> CompleteAndTakeAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, SlotOffer? offer, CancellationToken cancellationToken) =>
        QueueCompletion(delivery, resultJson, lifetimes, offer);

    private ValueTask<FinishOutcome> QueueCompletion(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, SlotOffer? offer)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        // The caller's span (the run) is captured here, on the caller's flow: the batch is sent from another.
        return _completions[delivery.Partition].RunAsync(new Completion(delivery, resultJson, DoneTtlMilliseconds(lifetimes.Done), ExpiryMilliseconds(lifetimes.Active),
            MageFlowTelemetry.CurrentTraceParent() ?? "", offer));
    }

    private async Task<ItemResult<FinishOutcome>[]> CompleteBatchAsync(IReadOnlyList<Completion> completions)
    {
        // The batch takes for the slots offered by one worker (the first offer's): one consumer and one set of queues
        // per call. Not while entries read ahead for it wait: they go first, through the worker's read.
        var offer = completions.FirstOrDefault(c => c.Offer is not null).Offer;
        if (offer is not null && (offer.TaskNames.Count == 0 || HasReadAhead(offer.Consumer))) offer = null;
        var offered = offer is null ? 0 : completions.Count(c => SameTaker(c.Offer, offer));
        var partition = completions[0].Delivery.Partition;
        var firstQueue = offer is null ? 0 : (int)(Interlocked.Increment(ref _readAndStartTurn) % offer.TaskNames.Count);

        var arguments = CompleteScript.Arguments(completions.Count * 2 + (offer?.TaskNames.Count ?? 0), 6 + completions.Count * 5);
        for (var i = 0; i < completions.Count; i++)
        {
            arguments.KeyInParts(_layout.Signature(completions[i].Delivery.Envelope.SignatureId));
            arguments.Key(_layout.Queue(completions[i].Delivery));
        }
        if (offer is not null)
        {
            for (var q = 0; q < offer.TaskNames.Count; q++)
                arguments.Key(_layout.Queue(partition, offer.TaskNames[(firstQueue + q) % offer.TaskNames.Count]));
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        arguments.Values(_group, _layout.Prefix, now, offer?.Consumer ?? "", offered, offer is null ? 0 : ExpiryMilliseconds(offer.ActiveTtl));
        for (var i = 0; i < completions.Count; i++)
        {
            var (delivery, result, doneTtlMs, activeTtlMs, traceParent, _) = completions[i];
            arguments.Value(delivery.EntryId);
            arguments.Value(doneTtlMs);
            arguments.Value(activeTtlMs);
            arguments.Value(result);
            arguments.Value(traceParent);
        }
        var db = await DatabaseAsync(CancellationToken.None).ConfigureAwait(false);
        var reply = (RedisResult[])(await CompleteScript.RunAsync(db, arguments).ConfigureAwait(false))!;
        var replies = (RedisResult[])reply[0]!;

        var outcomes = new ItemResult<FinishOutcome>[replies.Length];
        var nextTaken = 2;
        for (var i = 0; i < replies.Length; i++)
        {
            if (CompletionError(replies[i], completions[i].Delivery.Envelope.SignatureId) is { } error)
            {
                outcomes[i] = ItemResult<FinishOutcome>.Failed(error);
                continue;
            }
            // Each entry taken goes to one run that offered its slot and whose completion did not fail (it will run it):
            // the script takes no more than the offers less the failed completions, so every entry finds one.
            var outcome = FinishOutcomeOf(replies[i]);
            if (nextTaken < reply.Length && SameTaker(completions[i].Offer, offer))
                outcome = outcome with { Next = TakenOf((ReadOnlyMemory<byte>)(RedisValue)reply[nextTaken++], offer!.TaskNames, firstQueue, partition) };
            outcomes[i] = ItemResult<FinishOutcome>.Of(outcome);
        }
        if (offer is not null && (string?)reply[1] is { Length: > 0 } problem)
            await HandleUnreadableQueueAsync(problem, offer.TaskNames, partition).ConfigureAwait(false);
        return outcomes;
    }

    private static bool SameTaker(SlotOffer? offer, SlotOffer? taker) =>
        offer is not null && taker is not null && ReferenceEquals(offer.TaskNames, taker.TaskNames) && offer.Consumer == taker.Consumer;

    private readonly record struct Completion(Delivery Delivery, ReadOnlyMemory<byte> Result, long DoneTtlMs, long ActiveTtlMs, string TraceParent, SlotOffer? Offer);

    public async Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        ArgumentNullException.ThrowIfNull(failure);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var reply = await FailScript.RunAsync(db,
            [_layout.Signature(delivery.Envelope.SignatureId), _layout.Queue(delivery)],
            [_group, delivery.EntryId, _layout.Prefix, DoneTtlMilliseconds(lifetimes.Done), ExpiryMilliseconds(lifetimes.Active),
             failedInput, failure.SignatureId, failure.TaskName, failure.Error, (int)failure.Kind, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
             MageFlowTelemetry.CurrentTraceParent() ?? ""]).ConfigureAwait(false);
        return FinishOutcomeOf(reply);
    }

    public async Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var untilDue = due - DateTimeOffset.UtcNow;
        var keepFor = (untilDue > TimeSpan.Zero ? untilDue : TimeSpan.Zero) + activeTtl;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await RetryLaterScript.RunAsync(db,
            [_layout.Queue(delivery), _layout.Delayed(delivery.Partition), _layout.Signature(delivery.Envelope.SignatureId)],
            [_group, delivery.EntryId, due.ToUnixTimeMilliseconds(), delivery.TaskName, _layout.Prefix, ExpiryMilliseconds(keepFor)]).ConfigureAwait(false);
    }

    public async Task ReleaseAsync(Delivery delivery, string consumer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await ReleaseScript.RunAsync(db,
            [_layout.Signature(delivery.Envelope.SignatureId), _layout.Queue(delivery)],
            [_group, consumer, delivery.EntryId]).ConfigureAwait(false);
    }

    public async Task ParkAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await ParkScript.RunAsync(db,
            [_layout.Signature(delivery.Envelope.SignatureId), _layout.Queue(delivery)],
            [_group, delivery.EntryId, _layout.Prefix]).ConfigureAwait(false);
    }

    public async Task AcknowledgeAsync(MalformedEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.EntryId.Length == 0) return;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await AcknowledgeScript.RunAsync(db, [_layout.Queue(entry)], [_group, entry.EntryId]).ConfigureAwait(false);
    }

    // ---- helpers ----

    /// <summary>A completion's per-item error reply (<c>{-1, error}</c>), as the exception that item's caller gets.</summary>
    private static InvalidDataException? CompletionError(RedisResult reply, string signatureId) =>
        reply.Resp2Type == ResultType.Array && reply.Length == 2 && reply[0].Resp2Type == ResultType.Integer && (int)reply[0] == -1
            ? new InvalidDataException($"Completing signature {signatureId} failed in Redis: {(string?)reply[1]}. The key is not as MageFlow wrote it; other runs are not affected.")
            : null;

    /// <summary>A finish's reply: its code alone (complete.lua, when nothing is missing), or an array of the code and the missing callback ids.</summary>
    private static FinishOutcome FinishOutcomeOf(RedisResult reply)
    {
        if (reply.Resp2Type == ResultType.Integer)
            return (int)reply switch { 1 => FinishOutcome.Done, 2 => FinishOutcome.SavedWhilePaused, _ => FinishOutcome.NotApplied };
        var items = (RedisResult[])reply!;
        if ((int)items[0] == 2) return FinishOutcome.SavedWhilePaused;
        if ((int)items[0] != 1) return FinishOutcome.NotApplied;
        if (items.Length == 1) return FinishOutcome.Done; // the common case: nothing allocated
        var missing = new string[items.Length - 1];
        for (var i = 1; i < items.Length; i++) missing[i - 1] = (string)items[i]!;
        return new FinishOutcome(true, missing);
    }

    /// <summary>PEXPIRE needs a positive value; a zero or negative TTL expires at once.</summary>
    private static long ExpiryMilliseconds(TimeSpan ttl) => Math.Max(1, (long)Math.Ceiling(Math.Min(ttl.TotalMilliseconds, long.MaxValue / 2.0)));

    /// <summary>0 tells the scripts to delete.</summary>
    private static long DoneTtlMilliseconds(TimeSpan doneTtl) => doneTtl <= TimeSpan.Zero ? 0 : ExpiryMilliseconds(doneTtl);
}
