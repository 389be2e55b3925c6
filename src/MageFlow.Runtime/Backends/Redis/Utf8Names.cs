using System.Collections.Concurrent;
using System.Text;

namespace MageFlow.Backends.Redis;

/// <summary>
/// Strings for the few names every run reads back from Redis — task names, message types, return fields, kwarg
/// names — decoded once and then shared, instead of a new string per run. Bounded: past <see cref="MaxNames"/>
/// distinct names (data no application has), names are decoded afresh each time.
/// </summary>
internal static class Utf8Names
{
    private const int MaxNames = 4096;
    private const int MaxLength = 128;

    private static readonly ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars = Names.GetAlternateLookup<ReadOnlySpan<char>>();

    public static string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength) return Encoding.UTF8.GetString(utf8);
        Span<char> chars = stackalloc char[MaxLength];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        if (ByChars.TryGetValue(chars[..length], out var name)) return name;
        name = new string(chars[..length]);
        return Names.Count < MaxNames ? Names.GetOrAdd(name, name) : name;
    }
}
