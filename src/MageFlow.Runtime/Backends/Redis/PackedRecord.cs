using System.Buffers.Binary;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// A signature as Redis keeps it: one string value, a MessagePack map of its fields to their values as strings
/// (docs/redis-v2-design.md section 14), which a script reads into a Lua table with one <c>cmsgpack.unpack</c> and
/// writes back with one <c>SET</c>; <c>SET … PX</c> writes the record with its expiry in one atomic command, so
/// signing is one command (docs/redis-v2-design.md §14 has what it costs).
/// </summary>
internal static class PackedRecord
{
    /// <summary>Packs flat field, value pairs (every value written as a string, as Redis would store it in a hash).</summary>
    public static byte[] Pack(IReadOnlyList<RedisValue> flatPairs)
    {
        ArgumentNullException.ThrowIfNull(flatPairs);
        if (flatPairs.Count % 2 != 0) throw new ArgumentException("A record is field, value pairs: the count must be even.", nameof(flatPairs));
        var entries = flatPairs.Count / 2;
        // Each value's length once: a number's is found by formatting it.
        Span<int> lengths = flatPairs.Count <= 64 ? stackalloc int[flatPairs.Count] : new int[flatPairs.Count];
        var size = entries <= 15 ? 1 : entries <= ushort.MaxValue ? 3 : 5;
        for (var i = 0; i < flatPairs.Count; i++)
        {
            lengths[i] = flatPairs[i].GetByteCount();
            size += StringHeaderSize(lengths[i]) + lengths[i];
        }
        var packed = new byte[size];
        var at = WriteMapHeader(packed, entries);
        for (var i = 0; i < flatPairs.Count; i++)
        {
            at += WriteStringHeader(packed.AsSpan(at), lengths[i]);
            at += flatPairs[i].CopyTo(packed.AsSpan(at, lengths[i]));
        }
        return packed;
    }

    /// <summary>The record's field, value pairs, in the order packed.</summary>
    /// <exception cref="InvalidDataException">The value is not a MessagePack map of strings (or integers).</exception>
    public static RedisValue[] Unpack(ReadOnlySpan<byte> packed)
    {
        var reader = PackedStrings.OfMap(packed);
        var flat = new RedisValue[reader.Count];
        for (var i = 0; i < flat.Length; i++) flat[i] = reader.NextValue();
        return flat;
    }

    private static int StringHeaderSize(int length) => length switch
    {
        <= 31 => 1,
        <= byte.MaxValue => 2,
        <= ushort.MaxValue => 3,
        _ => 5,
    };

    private static int WriteMapHeader(Span<byte> destination, int entries)
    {
        if (entries <= 15)
        {
            destination[0] = (byte)(0x80 | entries);
            return 1;
        }
        if (entries <= ushort.MaxValue)
        {
            destination[0] = 0xde;
            BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)entries);
            return 3;
        }
        destination[0] = 0xdf;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)entries);
        return 5;
    }

    // The string forms cmsgpack itself writes (fixstr, str 8, str 16, str 32), so a record Lua packs again reads the same.
    private static int WriteStringHeader(Span<byte> destination, int length)
    {
        switch (length)
        {
            case <= 31:
                destination[0] = (byte)(0xa0 | length);
                return 1;
            case <= byte.MaxValue:
                destination[0] = 0xd9;
                destination[1] = (byte)length;
                return 2;
            case <= ushort.MaxValue:
                destination[0] = 0xda;
                BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)length);
                return 3;
            default:
                destination[0] = 0xdb;
                BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
                return 5;
        }
    }
}
