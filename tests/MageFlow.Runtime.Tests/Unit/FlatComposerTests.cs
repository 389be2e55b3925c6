using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MageFlow.Composition;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>
/// The one-pass composer gives the same input as composing through documents whenever it answers, and hands every
/// case it cannot do in one pass (deep merges, clashing or non-ASCII names) to the general path.
/// </summary>
public sealed class FlatComposerTests
{
    private static KeyValuePair<string, byte[]>[] Kwargs(params (string Name, string Json)[] kwargs) =>
        kwargs.Select(k => new KeyValuePair<string, byte[]>(k.Name, Encoding.UTF8.GetBytes(k.Json))).ToArray();

    public static TheoryData<string, string> MessageCases => new()
    {
        { """{"a":1}""", """[["b","2"]]""" },
        { """{"a":1,"b":{"x":1}}""", """[["b","3"]]""" },
        { """{"OrderId":"msg","n":1}""", """[["orderId","\"bound\""]]""" },
        { """{"a":1,"a":2}""", """[["c","[1,2]"]]""" },
        { """{"a":1,"A":2}""", """[["a","null"]]""" },
        { """{}""", """[["x","{\"deep\":{\"y\":[1,{\"z\":\"é\"}]}}"],["y","\"\\u00e9t\\u00e9\""]]""" },
        { """{"list":[1,2],"s":"t\"q"}""", """[["list","[3]"],["s","true"]]""" },
        { """ { "spaced" : [ 1 , 2 ] , "o" : { "k" : 1 } } """, """[["o","\"flat\""],["z","-1.5e3"]]""" },
        { """{"a":{"b":1}}""", """[["a","{\"c\":2}"]]""" },   // object meets object: a deep merge
        { """{"é":1}""", """[["b","2"]]""" },                 // a non-ASCII member name
    };

    [Theory]
    [MemberData(nameof(MessageCases))]
    public void Over_a_message_it_composes_what_the_documents_compose_or_hands_over(string message, string kwargsJson)
    {
        var kwargs = Kwargs(JsonSerializer.Deserialize<string[][]>(kwargsJson)!.Select(p => (p[0], p[1])).ToArray());
        var general = InputComposer.ComposeMerging(Encoding.UTF8.GetBytes(message), kwargs, default);

        using var flatInput = FlatComposer.TryCompose(Encoding.UTF8.GetBytes(message), kwargs) ?? default;
        var flat = flatInput.ToArray();
        var composed = InputComposer.Compose(Encoding.UTF8.GetBytes(message), kwargs, default);

        if (flat.Length > 0) Assert.True(JsonNode.DeepEquals(JsonNode.Parse(general), JsonNode.Parse(flat)), $"{Encoding.UTF8.GetString(flat)} != {Encoding.UTF8.GetString(general)}");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(general), JsonNode.Parse(composed)));
        // Member order too: the message's members in place, the others after them in the kwargs' order.
        Assert.Equal(Names(general), Names(composed));
    }

    [Fact]
    public void It_answers_the_common_case_and_hands_over_a_deep_merge()
    {
        Assert.NotNull(FlatComposer.TryCompose("""{"a":1}"""u8, Kwargs(("b", "2"))));
        Assert.Null(FlatComposer.TryCompose("""{"a":{"b":1}}"""u8, Kwargs(("a", """{"c":2}"""))));
        Assert.Null(FlatComposer.TryCompose("""{"a":1}"""u8, Kwargs(("b", "1"), ("B", "2"))));   // names that clash
        Assert.Null(FlatComposer.TryCompose("""[1]"""u8, Kwargs(("b", "2"))));                   // not an object: the general path says why
    }

    [Theory]
    [InlineData("""{"id":1}""", "other", """{"x":1}""")]
    [InlineData("""{"id":1}""", "Receipt", "\"replaced\"")]
    [InlineData("""{"id":1}""", "receipt", """{"extra":2}""")]   // object meets object: a deep merge
    [InlineData("", "other", "1")]                              // no result: null
    [InlineData("[1,2]", "receipt", """{"a":1}""")]
    public void Over_a_result_it_composes_what_wrapping_then_composing_gives(string result, string kwarg, string value)
    {
        var kwargs = Kwargs((kwarg, value));
        var general = InputComposer.ComposeMerging(InputComposer.WrapResult("receipt", Encoding.UTF8.GetBytes(result)), kwargs, default);

        using var composedInput = InputComposer.ComposeOverResult("receipt", Encoding.UTF8.GetBytes(result), kwargs, default);
        var composed = composedInput.ToArray();

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(general), JsonNode.Parse(composed)), $"{Encoding.UTF8.GetString(composed)} != {Encoding.UTF8.GetString(general)}");
        Assert.Equal(Names(general), Names(composed));
    }

    [Theory]
    [InlineData("{oops")]
    [InlineData("\"\\ud800\"")]     // a lone surrogate: JSON, but not text
    [InlineData("1 2")]
    public void A_kwarg_that_cannot_be_read_fails_naming_it_as_the_general_path_does(string value)
    {
        var kwargs = Kwargs(("note", value));

        var flat = Assert.ThrowsAny<JsonException>(() => InputComposer.Compose("""{"a":1}"""u8.ToArray(), kwargs, default));
        Assert.ThrowsAny<JsonException>(() => InputComposer.ComposeMerging("""{"a":1}"""u8.ToArray(), kwargs, default));

        Assert.Contains("the bound kwarg 'note' cannot be read", flat.Message);
    }

    [Theory]
    [InlineData("""{"a":1} x""")]
    [InlineData("""{"a":1}{"b":2}""")]
    [InlineData("""{"a":1""")]
    public void A_message_that_is_not_one_JSON_object_fails_as_the_general_path_does(string message)
    {
        var kwargs = Kwargs(("b", "2"));

        Assert.ThrowsAny<JsonException>(() => InputComposer.ComposeMerging(Encoding.UTF8.GetBytes(message), kwargs, default));
        Assert.ThrowsAny<JsonException>(() => InputComposer.Compose(Encoding.UTF8.GetBytes(message), kwargs, default));
    }

    private static string[] Names(byte[] json) => JsonNode.Parse(json)!.AsObject().Select(p => p.Key).ToArray();
}
