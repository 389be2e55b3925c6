using System.Globalization;
using System.Text;

namespace MageFlow.Backends.Redis;

/// <summary>
/// Reads the start transition's reply (start_run and start_entry in common.lua, for start.lua and read_and_start.lua):
/// one MessagePack array of strings — <c>{"0"}</c> missing; <c>{"1", stalls, attempts, task, return field, success ids,
/// error ids, then each kwarg's field and JSON}</c> started; <c>{"2", status}</c> not runnable; <c>{"3", problem}</c>
/// corrupt; <c>{"4", status}</c> parked. A started run gets only what it needs of its signature (<see cref="StartedRun"/>),
/// which the script has already checked.
/// </summary>
internal static class StartReply
{
    private const int StartedFixedStrings = 7;

    public static StartOutcome Parse(string id, ReadOnlySpan<byte> packed)
    {
        var strings = new PackedStrings(packed);
        if (strings.Count == 0) throw Unreadable(id, "it is empty");
        var code = strings.Next();
        switch (code.Length == 1 ? (char)code[0] : '?')
        {
            case '0':
                return new StartOutcome(StartResult.Missing);
            case '1':
                return Started(id, ref strings);
            case '2' when strings.Count >= 2:
                return new StartOutcome(StartResult.NotRunnable, FoundStatus: (SignatureStatus)Integer(id, strings.Next(), "status"));
            case '3' when strings.Count >= 2:
                return new StartOutcome(StartResult.Corrupt, Problem: Encoding.UTF8.GetString(strings.Next()));
            case '4' when strings.Count >= 2:
                return new StartOutcome(StartResult.Parked, FoundStatus: (SignatureStatus)Integer(id, strings.Next(), "status"));
            default:
                throw Unreadable(id, $"it begins with '{Encoding.UTF8.GetString(code)}' and holds {strings.Count} strings");
        }
    }

    private static StartOutcome Started(string id, ref PackedStrings strings)
    {
        if (strings.Count < StartedFixedStrings || (strings.Count - StartedFixedStrings) % 2 != 0)
            throw Unreadable(id, $"a started run's reply holds {strings.Count} strings, not {StartedFixedStrings} and pairs of kwargs");
        var stalls = Integer(id, strings.Next(), "stalls");
        var attempts = Integer(id, strings.Next(), "attempts");
        var taskName = Utf8Names.Get(strings.Next());
        var returnField = Utf8Names.Get(strings.Next());
        var successCallbacks = RedisLayout.CountIds(strings.Next());
        var errorCallbacks = RedisLayout.CountIds(strings.Next());
        var kwargs = strings.Count == StartedFixedStrings ? [] : new KeyValuePair<string, byte[]>[(strings.Count - StartedFixedStrings) / 2];
        for (var i = 0; i < kwargs.Length; i++)
            kwargs[i] = new(Utf8Names.Get(strings.Next()[RedisLayout.KwargFieldPrefix.Length..]), strings.Next().ToArray());
        return new StartedRun(id, taskName, returnField, attempts, kwargs, successCallbacks, errorCallbacks, stalls);
    }

    private static int Integer(string id, ReadOnlySpan<byte> text, string what) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Corrupt(id, text, what);

    private static InvalidDataException Corrupt(string id, ReadOnlySpan<byte> text, string what) =>
        new($"The stored signature {id} is corrupt: its {what} reads '{Encoding.UTF8.GetString(text)}', not a whole number in range; it was not written by MageFlow.");

    private static InvalidDataException Unreadable(string id, string why) =>
        new($"The start reply for signature {id} cannot be read: {why}.");
}
