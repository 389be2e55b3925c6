using System.Text;
using MageFlow.Backends.Redis;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>Names read back from Redis: decoded right, and one string shared per name.</summary>
public sealed class Utf8NamesTests
{
    [Theory]
    [InlineData("process-order")]
    [InlineData("Shop.Messages.OrderMessage")]
    [InlineData("größe-名前")]
    [InlineData("")]
    public void The_same_name_is_decoded_once_and_shared(string text)
    {
        var first = Utf8Names.Get(Encoding.UTF8.GetBytes(text));
        var second = Utf8Names.Get(Encoding.UTF8.GetBytes(text));

        Assert.Equal(text, first);
        Assert.Same(first, second);
    }

    [Fact]
    public void A_name_longer_than_any_task_name_is_decoded_but_not_kept()
    {
        var text = new string('n', 500);

        var first = Utf8Names.Get(Encoding.UTF8.GetBytes(text));

        Assert.Equal(text, first);
        Assert.NotSame(first, Utf8Names.Get(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Bytes_that_are_not_UTF8_read_as_the_replacement_character_as_everywhere_else()
    {
        byte[] invalid = [(byte)'a', 0xff, (byte)'b'];

        Assert.Equal(Encoding.UTF8.GetString(invalid), Utf8Names.Get(invalid));
    }
}
