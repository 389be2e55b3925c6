using System.Globalization;
using System.Text;
using StackExchange.Redis;
using static MageFlow.Backends.Redis.RedisLayout;

namespace MageFlow.Backends.Redis;

/// <summary>
/// A queued run as a task stream entry: written from an <see cref="Envelope"/>, read back from what XREADGROUP and
/// XAUTOCLAIM return (<c>[id, [field, value, ...]]</c>) or from the fields read_and_start.lua packs into one value.
/// An entry that cannot be read becomes a <see cref="MalformedEntry"/> with the reason: the engine logs and
/// acknowledges those.
/// </summary>
internal static class StreamEntries
{
    private static readonly object[] KindTexts = Enum.GetValues<EnvelopeKind>().Select(kind => (object)((int)kind).ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>
    /// The arguments of the <c>XADD</c> that queues <paramref name="envelope"/> on <paramref name="queue"/>, as one
    /// array sent as it is (<c>ExecuteAsync</c>): the typed <c>StreamAddAsync</c> takes the fields as an array of pairs
    /// and copies them into one more array of values, ~0.2 KB per run queued (docs/redis-v2-design.md §17). The key is a
    /// <see cref="RedisKey"/>: it routes the command to its slot's node.
    /// </summary>
    public static object[] AddArguments(RedisKey queue, Envelope envelope)
    {
        var arguments = new object[2 + 2 * FieldCount(envelope)];
        arguments[0] = queue;
        arguments[1] = "*";
        WriteFields(envelope, arguments, 2);
        return arguments;
    }

    /// <summary>How many fields the entry of <paramref name="envelope"/> has.</summary>
    public static int FieldCount(Envelope envelope) =>
        3 + (envelope.CallTimeKwargs.IsEmpty ? 0 : 1) + (envelope.ContainerKwargs.IsEmpty ? 0 : 1) + (envelope.OuterBase.IsEmpty ? 0 : 1)
        + (envelope.TraceParent is null ? 0 : 1) + (envelope.Failure is null ? 0 : 4);

    /// <summary>The entry's fields, names and values alternating, from <paramref name="at"/> on: each value its own string or byte array.</summary>
    public static void WriteFields(Envelope envelope, object[] into, int at)
    {
        Write(EntrySignatureId, envelope.SignatureId);
        into[at++] = EntryKind;
        into[at++] = KindTexts[(int)envelope.Kind];
        Write(EntryPayload, envelope.Payload);
        if (!envelope.CallTimeKwargs.IsEmpty) Write(EntryCallTimeKwargs, envelope.CallTimeKwargs);
        if (!envelope.ContainerKwargs.IsEmpty) Write(EntryContainerKwargs, envelope.ContainerKwargs);
        if (!envelope.OuterBase.IsEmpty) Write(EntryOuterBase, envelope.OuterBase);
        if (envelope.TraceParent is { } traceParent) Write(EntryTraceParent, traceParent);
        if (envelope.Failure is { } failure)
        {
            Write(EntryFailureSignatureId, failure.SignatureId);
            Write(EntryFailureTaskName, failure.TaskName);
            Write(EntryFailureError, failure.Error);
            Write(EntryFailureKind, (int)failure.Kind);
        }

        void Write(string name, RedisValue value)
        {
            into[at++] = name;
            into[at++] = value.Box() ?? RedisValue.EmptyString.Box()!;
        }
    }

    /// <summary>Reads one stream entry as Redis returns it: <c>[id, [field, value, ...]]</c>.</summary>
    public static QueueEntry Parse(string taskName, RedisResult entry, int partition = 0)
    {
        if (entry.Resp2Type != ResultType.Array || entry.Length < 1)
            return new MalformedEntry(taskName, "", "the queue returned an entry that is not [id, fields]") { Partition = partition };
        var entryId = (string?)entry[0] ?? "";
        if (entry.Length < 2 || entry[1].IsNull || entry[1].Resp2Type != ResultType.Array)
            return Deleted(taskName, entryId, partition);

        var fields = entry[1];
        var reader = new FieldReader();
        // The reply's own bytes: a cast to byte[] copies any value that is not a whole array of its own.
        for (var i = 0; i + 1 < fields.Length; i += 2)
            reader.Read(((ReadOnlyMemory<byte>)(RedisValue)fields[i]).Span, (ReadOnlyMemory<byte>)(RedisValue)fields[i + 1]);
        return reader.Entry(taskName, entryId, partition);
    }

    /// <summary>Reads one entry whose fields read_and_start.lua packed into one MessagePack array (<see cref="PackedStrings"/>).</summary>
    public static QueueEntry ParsePacked(string taskName, string entryId, ReadOnlyMemory<byte> packed, int partition)
    {
        var strings = new PackedStrings(packed.Span);
        var reader = new FieldReader();
        for (var i = 0; i + 1 < strings.Count; i += 2)
        {
            var name = packed.Span[strings.NextRange()];
            reader.Read(name, packed[strings.NextRange()]);
        }
        return reader.Entry(taskName, entryId, partition);
    }

    /// <summary>An entry whose data was deleted: nothing to run.</summary>
    public static MalformedEntry Deleted(string taskName, string entryId, int partition) =>
        new(taskName, entryId, "the entry has no fields (its data was deleted)") { Partition = partition };

    /// <summary>When an entry was queued: a stream entry id starts with the server's unix milliseconds at XADD.</summary>
    public static DateTimeOffset QueuedAtOf(string entryId)
    {
        var dash = entryId.IndexOf('-', StringComparison.Ordinal);
        return long.TryParse(dash < 0 ? entryId : entryId.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : default;
    }

    /// <summary>
    /// Takes an entry's fields one by one, the last of a name winning, and makes the entry of them. Names are
    /// compared as bytes and values kept as slices of the reply: a string per name and entry would be the read's
    /// largest allocation. read_and_start.lua starts only what <see cref="Entry"/> reads as a delivery (a signature
    /// id, a known kind, a payload): the two must agree.
    /// </summary>
    private ref struct FieldReader
    {
        private string? _signatureId, _failureId, _failureTask, _failureError, _failureKind, _traceParent;
        private ReadOnlyMemory<byte>? _kind, _payload;
        private ReadOnlyMemory<byte> _callTime, _containerKwargs, _outerBase;

        public void Read(ReadOnlySpan<byte> name, ReadOnlyMemory<byte> value)
        {
            if (Ascii.Equals(name, EntrySignatureId)) _signatureId = Text(value);
            else if (Ascii.Equals(name, EntryKind)) _kind = value;
            else if (Ascii.Equals(name, EntryPayload)) _payload = value;
            else if (Ascii.Equals(name, EntryCallTimeKwargs)) _callTime = value;
            else if (Ascii.Equals(name, EntryContainerKwargs)) _containerKwargs = value;
            else if (Ascii.Equals(name, EntryOuterBase)) _outerBase = value;
            else if (Ascii.Equals(name, EntryTraceParent)) _traceParent = Text(value);
            else if (Ascii.Equals(name, EntryFailureSignatureId)) _failureId = Text(value);
            else if (Ascii.Equals(name, EntryFailureTaskName)) _failureTask = Text(value);
            else if (Ascii.Equals(name, EntryFailureError)) _failureError = Text(value);
            else if (Ascii.Equals(name, EntryFailureKind)) _failureKind = Text(value);
        }

        public readonly QueueEntry Entry(string taskName, string entryId, int partition)
        {
            if (string.IsNullOrEmpty(_signatureId)) return Malformed($"the entry lacks the signature id field '{EntrySignatureId}'");
            if (_kind is not { } kind) return Malformed($"the entry lacks the kind field '{EntryKind}'");
            if (!int.TryParse(kind.Span, NumberStyles.None, CultureInfo.InvariantCulture, out var kindValue) || !Enum.IsDefined((EnvelopeKind)kindValue))
                return Malformed($"the entry's kind '{Truncate(Text(kind))}' is not a known envelope kind");
            if (_payload is not { } payload) return Malformed($"the entry lacks the payload field '{EntryPayload}'");

            var failure = _failureId is null && _failureTask is null && _failureError is null
                ? null
                : new TaskFailure(_failureId ?? "", _failureTask ?? "", _failureError ?? "")
                {
                    Kind = int.TryParse(_failureKind, NumberStyles.None, CultureInfo.InvariantCulture, out var failureKind) && Enum.IsDefined((TaskFailureKind)failureKind)
                        ? (TaskFailureKind)failureKind
                        : TaskFailureKind.Error,
                };
            return new Delivery(taskName, entryId, new Envelope(_signatureId, (EnvelopeKind)kindValue, payload, _callTime, failure,
                _containerKwargs, _outerBase, _traceParent), QueuedAtOf(entryId))
            { Partition = partition };

            MalformedEntry Malformed(string reason) => new(taskName, entryId, reason) { Partition = partition };
        }

        private static string Text(ReadOnlyMemory<byte> value) => Encoding.UTF8.GetString(value.Span);

        private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
    }
}
