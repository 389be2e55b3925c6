using MageFlow.Backends.Redis;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>What the start reply's packed strings refuse; what they read is checked against real Redis in RedisBackendSuite.</summary>
public sealed class PackedStringsTests
{
    [Fact]
    public void Reads_each_string_header_cmsgpack_writes()
    {
        // fixarray of 3: fixstr "ab", str 8 "c", bin 8 "de"
        byte[] packed = [0x93, 0xa2, (byte)'a', (byte)'b', 0xd9, 1, (byte)'c', 0xc4, 2, (byte)'d', (byte)'e'];

        var strings = new PackedStrings(packed);

        Assert.Equal(3, strings.Count);
        Assert.Equal("ab"u8.ToArray(), strings.Next().ToArray());
        Assert.Equal("c"u8.ToArray(), strings.Next().ToArray());
        Assert.Equal("de"u8.ToArray(), strings.Next().ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0x81, 0xa1, (byte)'a', 0xa1, (byte)'b' }, "where an array was expected")] // a map
    [InlineData(new byte[] { 0x91, 0x01 }, "where a string was expected")] // an integer
    [InlineData(new byte[] { 0x91, 0xa5, (byte)'a' }, "ends early")]
    [InlineData(new byte[] { 0xdc, 0x00 }, "ends early")]
    [InlineData(new byte[0], "ends early")]
    public void Refuses_what_is_not_an_array_of_strings_naming_why(byte[] packed, string why)
    {
        var error = Assert.Throws<InvalidDataException>(() =>
        {
            var strings = new PackedStrings(packed);
            for (var i = 0; i < strings.Count; i++) strings.Next();
        });

        Assert.Contains(why, error.Message);
    }
}
