using System.Text;
using System.Text.Json;
using MageFlow.Composition;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>Rule 2's merge on raw JSON: the edge cases the contract suite does not reach.</summary>
public sealed class InputComposerTests
{
    private static string Compose(string message, string? callTime = null, params (string Name, string Json)[] kwargs) =>
        Encoding.UTF8.GetString(InputComposer.Compose(
            Encoding.UTF8.GetBytes(message),
            kwargs.Select(k => new KeyValuePair<string, byte[]>(k.Name, Encoding.UTF8.GetBytes(k.Json))).ToArray(),
            callTime is null ? default : Encoding.UTF8.GetBytes(callTime)));

    [Fact]
    public void Without_kwargs_the_message_passes_through_unchanged() =>
        Assert.Equal("""{"a":1}""", Compose("""{"a":1}"""));

    [Fact]
    public void Keys_only_in_the_message_stay_and_bound_keys_are_appended() =>
        Assert.Equal("""{"a":1,"b":2}""", Compose("""{"a":1}""", null, ("b", "2")));

    [Fact]
    public void Objects_merge_recursively_at_every_depth() =>
        Assert.Equal(
            """{"o":{"p":{"x":1,"y":20,"z":30},"q":1}}""",
            Compose("""{"o":{"p":{"x":1,"y":2},"q":1}}""", null, ("o", """{"p":{"y":20,"z":30}}""")));

    [Fact]
    public void An_array_or_scalar_bound_value_replaces_rather_than_merges()
    {
        Assert.Equal("""{"list":[3]}""", Compose("""{"list":[1,2]}""", null, ("list", "[3]")));
        Assert.Equal("""{"o":"flat"}""", Compose("""{"o":{"a":1}}""", null, ("o", "\"flat\"")));
        Assert.Equal("""{"o":null}""", Compose("""{"o":{"a":1}}""", null, ("o", "null")));
    }

    [Fact]
    public void Call_time_kwargs_replace_signature_kwargs_shallowly_before_the_merge() =>
        // the call-time object replaces the bound object whole, then deep-merges into the message
        Assert.Equal(
            """{"o":{"a":1,"c":3},"k":"call"}""",
            Compose("""{"o":{"a":1}}""", """{"o":{"c":3},"k":"call"}""", ("o", """{"b":2}"""), ("k", "\"sig\"")));

    [Fact]
    public void Keys_match_case_insensitively_and_keep_the_message_spelling() =>
        Assert.Equal("""{"OrderId":"bound"}""", Compose("""{"OrderId":"msg"}""", null, ("orderId", "\"bound\"")));

    [Fact]
    public void The_result_is_wrapped_under_the_return_field()
    {
        Assert.Equal("""{"receipt":{"id":1}}""", Encoding.UTF8.GetString(InputComposer.WrapResult("receipt", """{"id":1}"""u8)));
        Assert.Equal("""{"mageflow_results":null}""", Encoding.UTF8.GetString(InputComposer.WrapResult("mageflow_results", default)));
    }

    [Fact]
    public void Invalid_json_in_a_kwarg_is_an_error_not_a_silent_drop() =>
        Assert.ThrowsAny<JsonException>(() => Compose("{}", null, ("a", "{oops")));

    [Fact]
    public void A_non_object_message_cannot_take_kwargs() =>
        Assert.Contains("JSON object", Assert.ThrowsAny<JsonException>(() => Compose("[1]", null, ("a", "1"))).Message);
}
