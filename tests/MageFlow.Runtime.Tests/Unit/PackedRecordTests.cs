using System.Text;
using MageFlow.Backends.Redis;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>
/// A signature's stored record: what the client packs reads back the same, and what a script may write (Lua numbers)
/// reads as Redis would hand it over. That Lua reads the client's packing is checked against real Redis in
/// RedisBackendSuite (kwargs of every string length).
/// </summary>
public sealed class PackedRecordTests
{
    [Fact]
    public void Reads_back_every_field_it_packs_whatever_the_lengths_and_the_count()
    {
        var flat = new List<RedisValue>();
        foreach (var length in new[] { 0, 1, 31, 32, 255, 256, 65_535, 65_536 })
            flat.AddRange([$"k:{length}", new string('x', length)]);
        for (var i = 0; i < 12; i++) flat.AddRange([$"f{i}", i]); // past 15 entries: a map 16 header
        flat.AddRange(["t", "naïve-task"]);

        var read = PackedRecord.Unpack(PackedRecord.Pack(flat));

        Assert.Equal(flat.Select(v => (string?)v), read.Select(v => (string?)v));
    }

    [Theory]
    [InlineData(new byte[] { 0x05 }, 5L)] // positive fixint
    [InlineData(new byte[] { 0xff }, -1L)] // negative fixint
    [InlineData(new byte[] { 0xcc, 0xc8 }, 200L)]
    [InlineData(new byte[] { 0xcd, 0x01, 0x00 }, 256L)]
    [InlineData(new byte[] { 0xce, 0x00, 0x01, 0x00, 0x00 }, 65_536L)]
    [InlineData(new byte[] { 0xd0, 0x80 }, -128L)]
    [InlineData(new byte[] { 0xd1, 0xff, 0x00 }, -256L)]
    [InlineData(new byte[] { 0xd2, 0xff, 0xff, 0x00, 0x00 }, -65_536L)]
    [InlineData(new byte[] { 0xd3, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 }, 1_099_511_627_776L)]
    public void Reads_a_number_a_script_stored_as_its_value(byte[] number, long expected)
    {
        byte[] packed = [0x81, 0xa1, (byte)'a', .. number];

        var read = PackedRecord.Unpack(packed);

        Assert.Equal("a", (string?)read[0]);
        Assert.Equal(expected, (long)read[1]);
    }

    [Fact]
    public void Reads_an_empty_table_as_cmsgpack_packs_it_an_empty_array() => Assert.Empty(PackedRecord.Unpack([0x90]));

    [Theory]
    [InlineData(new byte[] { 0x92, 0xa1, (byte)'a', 0xa1, (byte)'b' }, "where a map was expected")] // an array of two
    [InlineData(new byte[] { 0x81, 0xa1, (byte)'a', 0xcb, 0, 0, 0, 0, 0, 0, 0, 0 }, "where a string or an integer was expected")] // a double
    [InlineData(new byte[] { 0x81, 0xa1, (byte)'a', 0x91, 0xa0 }, "where a string or an integer was expected")] // a nested array
    [InlineData(new byte[] { 0x81, 0xa1, (byte)'a' }, "ends early")]
    [InlineData(new byte[] { 0x81, 0xa5, (byte)'a' }, "ends early")]
    [InlineData(new byte[0], "ends early")]
    public void Refuses_what_is_not_a_map_of_strings_naming_why(byte[] packed, string why)
    {
        var error = Assert.Throws<InvalidDataException>(() => PackedRecord.Unpack(packed));

        Assert.Contains(why, error.Message);
    }

    [Fact]
    public void A_signature_that_is_not_a_record_is_refused_naming_it()
    {
        var error = Assert.Throws<InvalidDataException>(() => RedisLayout.ParseSignature("sig-1", Encoding.UTF8.GetBytes("garbage")));

        Assert.Contains("sig-1", error.Message);
        Assert.Contains("not a MageFlow signature record", error.Message);
    }
}
