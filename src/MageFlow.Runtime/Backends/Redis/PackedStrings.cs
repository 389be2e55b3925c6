using System.Buffers.Binary;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// Reads a MessagePack array of strings, as Redis' <c>cmsgpack.pack</c> writes a Lua list of strings. A script that
/// returns many strings packs them into one value: StackExchange.Redis then parses and allocates one reply instead of
/// one per string, and the server converts one value instead of each. Only what <c>cmsgpack</c> writes for strings
/// is read (fixarray/array 16/array 32 of fixstr/str 8/str 16/str 32/bin 8/16/32); anything else is refused.
/// A map (a signature's record, <see cref="PackedRecord"/>) is read the same way, as its keys and values in turn.
/// </summary>
internal ref struct PackedStrings
{
    private readonly ReadOnlySpan<byte> _packed;
    private int _at;

    public PackedStrings(ReadOnlySpan<byte> packed) : this(packed, map: false)
    {
    }

    private PackedStrings(ReadOnlySpan<byte> packed, bool map)
    {
        _packed = packed;
        Count = map ? checked(2 * ReadMapLength()) : ReadArrayLength();
    }

    /// <summary>A MessagePack map, read as its keys and values in turn (<see cref="Count"/> is twice its entries).</summary>
    public static PackedStrings OfMap(ReadOnlySpan<byte> packed) => new(packed, map: true);

    /// <summary>How many strings the array holds.</summary>
    public int Count { get; }

    /// <summary>
    /// The next value as Redis would hand it over: a string's bytes (copied), or an integer, which is how
    /// <c>cmsgpack</c> writes a Lua number.
    /// </summary>
    public RedisValue NextValue()
    {
        if (_at >= _packed.Length) throw Unreadable("it ends early");
        var marker = _packed[_at];
        if (marker is >= 0xa0 and <= 0xbf or 0xd9 or 0xda or 0xdb or 0xc4 or 0xc5 or 0xc6) return Next().ToArray();
        Take(1);
        return marker switch
        {
            <= 0x7f => (long)marker,
            >= 0xe0 => (long)(sbyte)marker,
            0xcc => (long)Take(1)[0],
            0xcd => (long)BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xce => (long)BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
            0xcf => (RedisValue)BinaryPrimitives.ReadUInt64BigEndian(Take(8)),
            0xd0 => (long)(sbyte)Take(1)[0],
            0xd1 => (long)BinaryPrimitives.ReadInt16BigEndian(Take(2)),
            0xd2 => (long)BinaryPrimitives.ReadInt32BigEndian(Take(4)),
            0xd3 => (long)BinaryPrimitives.ReadInt64BigEndian(Take(8)),
            _ => throw Unreadable($"a value of MessagePack type 0x{marker:x2} where a string or an integer was expected"),
        };
    }

    /// <summary>The next string's bytes (a slice of the packed value).</summary>
    public ReadOnlySpan<byte> Next() => _packed[NextRange()];

    /// <summary>Where the next string's bytes lie in the packed value, to slice memory the packed value is part of.</summary>
    public Range NextRange()
    {
        var marker = Take(1)[0];
        var length = marker switch
        {
            >= 0xa0 and <= 0xbf => marker & 0x1f,
            0xd9 or 0xc4 => Take(1)[0],
            0xda or 0xc5 => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xdb or 0xc6 => checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
            _ => throw Unreadable($"a value of MessagePack type 0x{marker:x2} where a string was expected"),
        };
        var start = _at;
        Take(length);
        return start..(start + length);
    }

    private int ReadArrayLength()
    {
        var marker = Take(1)[0];
        return marker switch
        {
            >= 0x90 and <= 0x9f => marker & 0x0f,
            0xdc => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xdd => checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
            _ => throw Unreadable($"a value of MessagePack type 0x{marker:x2} where an array was expected"),
        };
    }

    private int ReadMapLength()
    {
        var marker = Take(1)[0];
        return marker switch
        {
            >= 0x80 and <= 0x8f => marker & 0x0f,
            0xde => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xdf => checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
            // cmsgpack packs an empty Lua table as an empty array
            0x90 => 0,
            _ => throw Unreadable($"a value of MessagePack type 0x{marker:x2} where a map was expected"),
        };
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length > _packed.Length - _at) throw Unreadable("it ends early");
        var taken = _packed.Slice(_at, length);
        _at += length;
        return taken;
    }

    private static InvalidDataException Unreadable(string why) => new($"A packed reply of a MageFlow script cannot be read: {why}.");
}
