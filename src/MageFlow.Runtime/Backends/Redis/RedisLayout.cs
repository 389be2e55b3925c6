using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MageFlow.Signatures;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// Where and how the Redis backend stores things. A signature is one packed record (<see cref="PackedRecord"/>); short
/// field names keep it compact. The Lua scripts use the same names.
/// Every key starts with the hash tag of its partition (<see cref="RedisPartitions"/>): <c>{prefix}</c>, the only one
/// of a store with one partition, or <c>{prefix#suffix}</c>. A script touches the keys of one partition only, so it runs
/// on one Redis or a Redis Cluster alike; what it must do in another partition goes through that one's outbox.
/// </summary>
internal sealed class RedisLayout
{
    /// <summary>The one consumer group of every task stream.</summary>
    public const string ConsumerGroup = "mf";

    /// <summary>
    /// The layout record's field that says how signatures are stored, and its value: one packed record each
    /// (<see cref="PackedRecord"/>). A store whose layout record lacks it was written when signatures were hashes.
    /// </summary>
    public const string RecordFormatField = "records";
    public const string RecordFormat = "packed";

    // signature record fields (PackedRecord)
    public const string TaskNameField = "t";
    public const string MessageTypeField = "m";
    public const string StatusField = "s";
    public const string LastStatusField = "l";
    public const string ReturnFieldField = "r";
    public const string CreatedField = "c";
    public const string AttemptsField = "a";
    public const string SuccessIdsField = "sc";
    public const string ErrorIdsField = "ec";         // callbacks "id" or "id=task" (task known at signing), comma-joined
    public const string KwargFieldPrefix = "k:";
    public const string RunningEntryField = "x";   // the entry last started and not finished (a second start = a stall)
    public const string StallsField = "st";
    public const string StartedField = "sa";          // unix ms of the last start
    public const string FinishedField = "fa";         // unix ms of Done / Failed / Canceled
    public const string ErrorField = "er";            // the failure's error text (Failed, or a failure saved while paused)
    public const string FailedInputField = "fi";      // the failed run's input (Failed): what a retry runs again
    public const string FailureKindField = "fk";
    public const string ResultField = "rv";           // the result, kept only for an awaited signature
    public const string AwaitedField = "aw";          // "1" when someone waits on it: its finish is published
    public const string ParkedField = "pk";           // msgpack array of the parked runs' stream fields (rule 24)
    public const string ParkedCountField = "pn";
    public const string SavedField = "so";            // an outcome reached while paused: "d" done or "f" failed
    public const string SavedPayloadField = "sp";     // its result, or its failed input

    public const string KindField = "kd";             // SignatureKind: absent for a task
    public const string ParentField = "pa";           // the chain or swarm it is a step or item of
    public const string ChildrenField = "ch";         // a chain's steps, comma-joined
    public const string ReceivesSwarmResultsField = "rs";
    public const string SwarmMaxConcurrencyField = "mc";
    public const string SwarmStopAfterField = "sf";
    public const string SwarmMaxTasksField = "mt";
    public const string SwarmCloseOnMaxField = "co";
    public const string SwarmStartedField = "sd";
    public const string SwarmClosedField = "cl";
    public const string SwarmMessageField = "sm";
    public const string SwarmAddedField = "na";
    public const string SwarmRunningField = "nr";
    public const string SwarmSucceededField = "ns";
    public const string SwarmFailedField = "nf";

    /// <summary><see cref="SavedField"/> values.</summary>
    public const string SavedDone = "d";
    public const string SavedFailed = "f";

    // key parts, after a partition's tag: {tag}:s:{id} signature record, {tag}:q:{task} task stream (the braces are part of the key)
    public const string SignatureKeyPart = ":s:";
    public const string QueueKeyPart = ":q:";
    public const string WorkflowKeyPart = ":w:"; // {tag}:w:{swarm id}:{i|w|r|o} a swarm's lists
    public const string OutboxKeyPart = ":outbox"; // {tag}:outbox messages to other partitions (apply.lua)

    // outbox message fields (send in common.lua)
    public const string OutboxOperation = "o";
    public const string OutboxTarget = "t";
    public const string OutboxArguments = "a";
    public const string OutboxActiveTtl = "ac";
    public const string OutboxDoneTtl = "dn";

    // marks an applied outbox message leaves on its target, so applying it again changes nothing
    public const string AppliedFieldPrefix = "o:";          // + the message's id
    public const string ChildFinishedFieldPrefix = "cf:";   // + the finished step's or item's id, on its container
    public const string ReleasedField = "rl";                // released through the outbox: a later keep-alive leaves it be

    // pub/sub channels: {prefix}:stop (interrupted or canceled ids), {prefix}:finished (awaited ids that finished)
    public const string StopChannelPart = ":stop";
    public const string FinishedChannelPart = ":finished";

    // stream entry fields
    public const string EntrySignatureId = "i";
    public const string EntryKind = "k";
    public const string EntryPayload = "p";
    public const string EntryCallTimeKwargs = "w";
    public const string EntryFailureSignatureId = "fs";
    public const string EntryFailureTaskName = "ft";
    public const string EntryFailureError = "fe";
    public const string EntryFailureKind = "fk";
    public const string EntryContainerKwargs = "ck";
    public const string EntryOuterBase = "ob";
    public const string EntryTraceParent = "tp";      // W3C traceparent of the span that queued the run

    // Each partition's signature key prefix as bytes: a signature's key is its id behind it (RedisKey.Prepend), sent
    // as the two parts, not one more string per key (docs/redis-v2-design.md §18).
    private readonly RedisKey[] _signaturePrefixes;

    /// <summary>Each partition's queue keys by task name (a few per application), built once instead of per call.</summary>
    private readonly ConcurrentDictionary<string, RedisKey>[] _queues;

    /// <param name="prefix">The user's key prefix (<see cref="RedisBackendOptions.KeyPrefix"/>): not empty, no braces, no '#'.</param>
    /// <param name="partitions">How many partitions (<see cref="RedisBackendOptions.Partitions"/>).</param>
    public RedisLayout(string prefix, int partitions = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        if (prefix.AsSpan().IndexOfAny('{', '}') >= 0)
            throw new ArgumentException(
                $"RedisBackendOptions.KeyPrefix '{prefix}' contains a brace: MageFlow puts the prefix in braces itself, as the hash tag that keeps each partition's keys in one Redis Cluster slot.",
                nameof(prefix));
        if (prefix.Contains(RedisPartitions.Separator, StringComparison.Ordinal))
            throw new ArgumentException(
                $"RedisBackendOptions.KeyPrefix '{prefix}' contains '{RedisPartitions.Separator}', which MageFlow puts between a prefix and a partition's name: another store's partitions could share its keys.",
                nameof(prefix));
        Partitions = new RedisPartitions(prefix, partitions);
        Prefix = Partitions.Tag(0);
        _signaturePrefixes = Enumerable.Range(0, partitions).Select(p => (RedisKey)Encoding.UTF8.GetBytes(Partitions.Tag(p) + SignatureKeyPart)).ToArray();
        _queues = Enumerable.Range(0, partitions).Select(_ => new ConcurrentDictionary<string, RedisKey>(StringComparer.Ordinal)).ToArray();
        TaskDefinitions = Prefix + ":tasks";
        LayoutRecord = Prefix + ":layout";
        EarlierTaskDefinitions = prefix + ":tasks";
        SignaturePatterns = partitions == 1
            ? [EscapeGlob(Prefix + SignatureKeyPart) + "*"]
            : [EscapeGlob(Prefix + SignatureKeyPart) + "*", EscapeGlob("{" + prefix + RedisPartitions.Separator) + "*" + EscapeGlob("}" + SignatureKeyPart) + "*"];
    }

    public RedisPartitions Partitions { get; }

    /// <summary>The store's own hash tag (partition 0's): the scripts' first argument, and where the store-wide keys live.</summary>
    public string Prefix { get; }

    public RedisKey TaskDefinitions { get; }

    /// <summary>How the store is partitioned (count and suffixes), written by the first client: every client must agree.</summary>
    public RedisKey LayoutRecord { get; }

    /// <summary>
    /// The task definitions of a store written by a MageFlow before the hash tag (keys <c>prefix:…</c>, no braces):
    /// every store a worker served has this hash, so it tells that such a store is here.
    /// </summary>
    public RedisKey EarlierTaskDefinitions { get; }

    /// <summary>A partition's delayed retries.</summary>
    public RedisKey Delayed(int partition) => Partitions.Tag(partition) + ":delayed";

    /// <summary>A partition's messages to other partitions.</summary>
    public RedisKey Outbox(int partition) => Partitions.Tag(partition) + OutboxKeyPart;

    public RedisKey Signature(string id)
    {
        var partition = Partitions.IndexOf(id);
        return partition >= 0 ? ((RedisKey)id).Prepend(_signaturePrefixes[partition]) : Partitions.TagOf(id) + SignatureKeyPart + id;
    }

    /// <summary>The SCAN patterns that together match every signature key of this store (glob characters in the prefix escaped).</summary>
    public IReadOnlyList<string> SignaturePatterns { get; }

    /// <summary>The id of a signature key.</summary>
    public static string SignatureIdOf(string signatureKey) =>
        signatureKey[(signatureKey.IndexOf("}" + SignatureKeyPart, StringComparison.Ordinal) + 1 + SignatureKeyPart.Length)..];

    public RedisChannel Channel(SignalKind kind) =>
        RedisChannel.Literal(Prefix + (kind == SignalKind.StopRun ? StopChannelPart : FinishedChannelPart));

    private static string EscapeGlob(string text)
    {
        var escaped = new StringBuilder(text.Length + 4);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\') escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }

    public RedisKey Queue(int partition, string taskName) =>
        _queues[partition].GetOrAdd(taskName, static (name, tag) => (RedisKey)(tag + QueueKeyPart + name), Partitions.Tag(partition));

    /// <summary>The queue a read entry came from and is acknowledged in.</summary>
    public RedisKey Queue(QueueEntry entry) => Queue(entry.Partition, entry.TaskName);

    // ---- signatures ----

    /// <summary>A new signature's record as stored (<see cref="PackedRecord"/>).</summary>
    public static byte[] PackSignature(SignatureRecord signature) => PackedRecord.Pack(SignatureFields(signature));

    /// <summary>The fields of a new signature's record; empty callback lists are left out to save memory.</summary>
    private static List<RedisValue> SignatureFields(SignatureRecord signature)
    {
        var fields = new List<RedisValue>(18 + signature.Kwargs.Count * 2)
        {
            TaskNameField, signature.TaskName,
            MessageTypeField, signature.MessageTypeId,
            StatusField, (int)signature.Status,
            LastStatusField, (int)signature.LastStatus,
            ReturnFieldField, signature.ReturnField,
            CreatedField, signature.CreatedAt.ToUnixTimeMilliseconds(),
            AttemptsField, signature.Attempts,
        };
        if (signature.Kind != SignatureKind.Task) fields.AddRange([KindField, (int)signature.Kind]);
        if (signature.ChildIds.Count > 0) fields.AddRange([ChildrenField, JoinIds(signature.ChildIds)]);
        if (signature.ReceivesSwarmResults) fields.AddRange([ReceivesSwarmResultsField, 1]);
        if (signature.Swarm is { Options: var options })
        {
            fields.AddRange([SwarmMaxConcurrencyField, options.MaxConcurrency, SwarmCloseOnMaxField, options.CloseOnMaxTasks ? 1 : 0,
                SwarmAddedField, 0, SwarmRunningField, 0, SwarmSucceededField, 0, SwarmFailedField, 0]);
            if (options.StopAfterFailures is { } stopAfter) fields.AddRange([SwarmStopAfterField, stopAfter]);
            if (options.MaxTasks is { } maxTasks) fields.AddRange([SwarmMaxTasksField, maxTasks]);
        }
        if (signature.SuccessCallbackIds.Count > 0) fields.AddRange([SuccessIdsField, JoinCallbacks(signature.SuccessCallbackIds, signature.CallbackTasks)]);
        if (signature.ErrorCallbackIds.Count > 0) fields.AddRange([ErrorIdsField, JoinCallbacks(signature.ErrorCallbackIds, signature.CallbackTasks)]);
        foreach (var (name, json) in signature.Kwargs) fields.AddRange([KwargFieldPrefix + name, json]);
        return fields;
    }

    /// <summary>
    /// A callback list as stored: each id, followed by <c>=task</c> when its task is known (<see cref="SignatureRecord.CallbackTasks"/>),
    /// so a finish queues it without reading it.
    /// </summary>
    private static string JoinCallbacks(IReadOnlyList<string> ids, IReadOnlyDictionary<string, string>? tasks)
    {
        if (tasks is null) return JoinIds(ids);
        var joined = new StringBuilder();
        foreach (var id in ids)
        {
            CheckId(id);
            if (joined.Length > 0) joined.Append(',');
            joined.Append(id);
            // A task name with a comma is never accepted at signing; such a callback would simply be read when it fires.
            if (tasks.TryGetValue(id, out var task) && !task.Contains(',', StringComparison.Ordinal)) joined.Append('=').Append(task);
        }
        return joined.ToString();
    }

    private static string JoinIds(IReadOnlyList<string> ids)
    {
        foreach (var id in ids) CheckId(id);
        return string.Join(',', ids);
    }

    private static void CheckId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.AsSpan().IndexOfAny(",=") >= 0)
            throw new ArgumentException($"Callback id '{id}' cannot be stored: ids must be non-empty and contain no comma or '='.");
    }

    /// <summary>Reads a signature from its stored record.</summary>
    /// <exception cref="InvalidDataException">The value is not a record MageFlow wrote; the message names the signature.</exception>
    public static SignatureRecord ParseSignature(string id, ReadOnlySpan<byte> packed)
    {
        RedisValue[] flat;
        try
        {
            flat = PackedRecord.Unpack(packed);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"The stored signature {id} is corrupt: its value is not a MageFlow signature record ({ex.Message}); it was not written by MageFlow.", ex);
        }
        return ParseSignature(id, flat);
    }

    /// <summary>Reads a signature from its record's flat field, value pairs.</summary>
    private static SignatureRecord ParseSignature(string id, ReadOnlySpan<RedisValue> flatPairs)
    {
        string? taskName = null, messageTypeId = null, returnField = null, error = null, saved = null, parent = null;
        int status = 0, lastStatus = 0, attempts = 0, failureKind = 0, parkedRuns = 0, kind = 0;
        int maxConcurrency = 0, added = 0, running = 0, succeeded = 0, failedItems = 0;
        int? stopAfter = null, maxTasks = null;
        bool closeOnMax = true, swarmStarted = false, closed = false, receivesSwarmResults = false;
        string[] children = [];
        long created = 0;
        long? started = null, finished = null;
        byte[]? result = null, savedPayload = null, failedInput = null;
        string[] successIds = [], errorIds = [];
        var kwargs = new List<KeyValuePair<string, byte[]>>();
        for (var i = 0; i + 1 < flatPairs.Length; i += 2)
        {
            var field = (string)flatPairs[i]!;
            var value = flatPairs[i + 1];
            switch (field)
            {
                case TaskNameField: taskName = value; break;
                case MessageTypeField: messageTypeId = value; break;
                case StatusField: status = (int)Number(id, field, value); break;
                case LastStatusField: lastStatus = (int)Number(id, field, value); break;
                case ReturnFieldField: returnField = value; break;
                case CreatedField: created = Number(id, field, value); break;
                case AttemptsField: attempts = (int)Number(id, field, value); break;
                case SuccessIdsField: successIds = SplitIds(((ReadOnlyMemory<byte>)value).Span); break;
                case ErrorIdsField: errorIds = SplitIds(((ReadOnlyMemory<byte>)value).Span); break;
                case StartedField: started = Number(id, field, value); break;
                case FinishedField: finished = Number(id, field, value); break;
                case ErrorField: error = value; break;
                case FailedInputField: failedInput = value; break;
                case FailureKindField: failureKind = (int)Number(id, field, value); break;
                case ResultField: result = value; break;
                case ParkedCountField: parkedRuns = (int)Number(id, field, value); break;
                case SavedField: saved = value; break;
                case SavedPayloadField: savedPayload = value; break;
                case KindField: kind = (int)Number(id, field, value); break;
                case ParentField: parent = value; break;
                case ChildrenField: children = SplitIds(((ReadOnlyMemory<byte>)value).Span); break;
                case ReceivesSwarmResultsField: receivesSwarmResults = true; break;
                case SwarmMaxConcurrencyField: maxConcurrency = (int)Number(id, field, value); break;
                case SwarmStopAfterField: stopAfter = (int)Number(id, field, value); break;
                case SwarmMaxTasksField: maxTasks = (int)Number(id, field, value); break;
                case SwarmCloseOnMaxField: closeOnMax = Number(id, field, value) != 0; break;
                case SwarmStartedField: swarmStarted = true; break;
                case SwarmClosedField: closed = true; break;
                case SwarmAddedField: added = (int)Number(id, field, value); break;
                case SwarmRunningField: running = (int)Number(id, field, value); break;
                case SwarmSucceededField: succeeded = (int)Number(id, field, value); break;
                case SwarmFailedField: failedItems = (int)Number(id, field, value); break;
                default:
                    if (field.StartsWith(KwargFieldPrefix, StringComparison.Ordinal))
                        kwargs.Add(new(field[KwargFieldPrefix.Length..], (byte[])value!));
                    break;
            }
        }
        if (taskName is null || messageTypeId is null || returnField is null)
            throw new InvalidDataException($"The stored signature {id} lacks its task name, message type or return field; it was not written by MageFlow.");
        return new SignatureRecord(id, taskName, messageTypeId, kwargs, successIds, errorIds,
            (SignatureStatus)status, (SignatureStatus)lastStatus, returnField, DateTimeOffset.FromUnixTimeMilliseconds(created), attempts)
        {
            StartedAt = started is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null,
            FinishedAt = finished is { } f ? DateTimeOffset.FromUnixTimeMilliseconds(f) : null,
            Failure = error is null ? null : new TaskFailure(id, taskName, error) { Kind = Enum.IsDefined((TaskFailureKind)failureKind) ? (TaskFailureKind)failureKind : TaskFailureKind.Error },
            Result = result ?? (saved == SavedDone ? savedPayload : null),
            FailedInput = failedInput,
            ParkedRuns = parkedRuns,
            HasSavedOutcome = saved is not null,
            Kind = (SignatureKind)kind,
            ParentId = parent,
            ChildIds = children,
            ReceivesSwarmResults = receivesSwarmResults,
            Swarm = (SignatureKind)kind != SignatureKind.Swarm ? null : new SwarmState(new SwarmOptions
            {
                MaxConcurrency = maxConcurrency,
                StopAfterFailures = stopAfter,
                MaxTasks = maxTasks,
                CloseOnMaxTasks = closeOnMax,
            })
            {
                Added = added,
                Running = running,
                Succeeded = succeeded,
                Failed = failedItems,
                Started = swarmStarted,
                Closed = closed,
            },
        };
    }

    /// <summary>A numeric field; anything else means the record was not written by MageFlow.</summary>
    private static long Number(string id, string field, RedisValue value)
    {
        if (long.TryParse((string?)value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            && (field is CreatedField or StartedField or FinishedField || number is >= int.MinValue and <= int.MaxValue))
            return number;
        throw new InvalidDataException($"The stored signature {id} is corrupt: its field '{field}' holds '{Truncate((string?)value ?? "")}', not a number; it was not written by MageFlow.");
    }

    /// <summary>How many ids a joined list holds, as <see cref="SplitIds"/> would read them.</summary>
    internal static int CountIds(ReadOnlySpan<byte> joined)
    {
        var count = 0;
        foreach (var range in joined.Split((byte)','))
            if (!IdOf(joined[range]).IsEmpty) count++;
        return count;
    }

    /// <summary>The ids of a comma-joined list, read from its bytes (no joined string in between).</summary>
    internal static string[] SplitIds(ReadOnlySpan<byte> joined)
    {
        var count = CountIds(joined);
        if (count == 0) return [];
        var ids = new string[count];
        var at = 0;
        foreach (var range in joined.Split((byte)','))
            if (IdOf(joined[range]) is { IsEmpty: false } id) ids[at++] = Encoding.UTF8.GetString(id);
        return ids;
    }

    /// <summary>An entry's id: a callback may be stored as <c>id=task</c> (<see cref="JoinCallbacks"/>).</summary>
    private static ReadOnlySpan<byte> IdOf(ReadOnlySpan<byte> entry) => entry.IndexOf((byte)'=') is var at and >= 0 ? entry[..at] : entry;

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    // ---- task definitions: compact JSON {"m":messageTypeId,"r":returnField,"n":retries} ----

    public static byte[] DefinitionValue(TaskDefinition definition)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("m", definition.MessageTypeId);
            writer.WriteString("r", definition.ReturnField);
            writer.WriteNumber("n", definition.Retries);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static TaskDefinition ParseDefinition(string name, byte[] value)
    {
        string? messageTypeId = null, returnField = null;
        int? retries = null;
        try
        {
            var reader = new Utf8JsonReader(value);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1) continue;
                var property = reader.GetString();
                reader.Read();
                switch (property)
                {
                    case "m": messageTypeId = reader.GetString(); break;
                    case "r": returnField = reader.GetString(); break;
                    case "n": retries = reader.GetInt32(); break;
                    default: reader.Skip(); break;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The stored definition of task '{name}' is not valid: {ex.Message}", ex);
        }
        if (messageTypeId is null || returnField is null || retries is null)
            throw new InvalidDataException($"The stored definition of task '{name}' lacks its message type, return field or retries.");
        return new TaskDefinition(name, messageTypeId, returnField, retries.Value);
    }
}

/// <summary>The kinds of outbox message (docs/redis-v2-design.md §4): what a transition asks of a signature in another partition (apply.lua).</summary>
internal static class OutboxOperations
{
    public const string Keep = "keep";                     // keep alive for a TTL (rule 19)
    public const string Persist = "persist";               // no expiry while something waits on its parent for resume
    public const string Release = "release";               // it can never fire now: released, with what is below it
    public const string Dispatch = "dispatch";             // a callback's run
    public const string Step = "step";                     // a chain's next step
    public const string Item = "item";                     // a swarm's item, started by its fill
    public const string CancelWaiting = "cancel";          // a swarm item that never started, its swarm failed
    public const string ChildFinished = "child";           // a step or item finished: its container moves on
    public const string FinishContainer = "finish";        // a chain whose step no longer exists fails
    public const string Lifecycle = "lifecycle";           // suspend, interrupt, resume or cancel reaching a step or item
}
