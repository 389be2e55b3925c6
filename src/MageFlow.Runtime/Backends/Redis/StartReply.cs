using System.Globalization;
using System.Text;
using MageFlow.Signatures;

namespace MageFlow.Backends.Redis;

/// <summary>
/// Reads the start transition's reply (start_run and start_entry in common.lua, for start.lua and read_and_start.lua):
/// one MessagePack array of strings — <c>{"0"}</c> missing; <c>{"1", stalls, attempts, last status, created, task,
/// message type, return field, success ids, error ids, then each kwarg's field and JSON}</c> started; <c>{"2",
/// status}</c> not runnable; <c>{"3", problem}</c> corrupt; <c>{"4", status}</c> parked. A started run gets only what it
/// needs of its signature, which the script has already checked.
/// </summary>
internal static class StartReply
{
    private const int StartedFixedStrings = 10;

    public static StartOutcome Parse(string id, ReadOnlySpan<byte> packed, long startedAt)
    {
        var strings = new PackedStrings(packed);
        if (strings.Count == 0) throw Unreadable(id, "it is empty");
        var code = strings.Next();
        switch (code.Length == 1 ? (char)code[0] : '?')
        {
            case '0':
                return new StartOutcome(StartResult.Missing, null);
            case '1':
                return Started(id, ref strings, startedAt);
            case '2' when strings.Count >= 2:
                return new StartOutcome(StartResult.NotRunnable, null, FoundStatus: (SignatureStatus)Integer(id, strings.Next(), "status"));
            case '3' when strings.Count >= 2:
                return new StartOutcome(StartResult.Corrupt, null, Problem: Encoding.UTF8.GetString(strings.Next()));
            case '4' when strings.Count >= 2:
                return new StartOutcome(StartResult.Parked, null, FoundStatus: (SignatureStatus)Integer(id, strings.Next(), "status"));
            default:
                throw Unreadable(id, $"it begins with '{Encoding.UTF8.GetString(code)}' and holds {strings.Count} strings");
        }
    }

    private static StartOutcome Started(string id, ref PackedStrings strings, long startedAt)
    {
        if (strings.Count < StartedFixedStrings || (strings.Count - StartedFixedStrings) % 2 != 0)
            throw Unreadable(id, $"a started run's reply holds {strings.Count} strings, not {StartedFixedStrings} and pairs of kwargs");
        var stalls = Integer(id, strings.Next(), "stalls");
        var attempts = Integer(id, strings.Next(), "attempts");
        var lastStatus = Integer(id, strings.Next(), "last status");
        var created = Long(id, strings.Next(), "created");
        var taskName = Utf8Names.Get(strings.Next());
        var messageType = Utf8Names.Get(strings.Next());
        var returnField = Utf8Names.Get(strings.Next());
        var successIds = RedisLayout.SplitIds(strings.Next());
        var errorIds = RedisLayout.SplitIds(strings.Next());
        var kwargs = new List<KeyValuePair<string, byte[]>>((strings.Count - StartedFixedStrings) / 2);
        for (var i = StartedFixedStrings; i < strings.Count; i += 2)
            kwargs.Add(new(Utf8Names.Get(strings.Next()[RedisLayout.KwargFieldPrefix.Length..]), strings.Next().ToArray()));
        var signature = new SignatureRecord(id, taskName, messageType, kwargs, successIds, errorIds,
            SignatureStatus.Active, (SignatureStatus)lastStatus, returnField, DateTimeOffset.FromUnixTimeMilliseconds(created), attempts)
        {
            StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(startedAt),
        };
        return new StartOutcome(StartResult.Started, signature, stalls);
    }

    private static int Integer(string id, ReadOnlySpan<byte> text, string what) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Corrupt(id, text, what);

    private static long Long(string id, ReadOnlySpan<byte> text, string what) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Corrupt(id, text, what);

    private static InvalidDataException Corrupt(string id, ReadOnlySpan<byte> text, string what) =>
        new($"The stored signature {id} is corrupt: its {what} reads '{Encoding.UTF8.GetString(text)}', not a whole number in range; it was not written by MageFlow.");

    private static InvalidDataException Unreadable(string id, string why) =>
        new($"The start reply for signature {id} cannot be read: {why}.");
}
