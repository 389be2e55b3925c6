using MageFlow.Backends.Redis;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>What an FCALL sends: its function, key count, keys and values in order, the first key routing the call.</summary>
public sealed class ScriptArgumentsTests
{
    [Fact]
    public void The_call_sends_the_function_the_key_count_the_keys_and_the_values_in_order_with_only_the_first_key_as_a_routing_key()
    {
        var arguments = new ScriptArguments("mageflow_x_complete", keys: 2, values: 4);
        arguments.Key("{mf}:s:a");
        arguments.Key("{mf}:q:task");
        arguments.Value("group");
        arguments.Value(86_400_000L);
        arguments.Value(300_000L);
        arguments.Value(86_400_000L);

        var sent = arguments.ToSend();

        Assert.Equal("mageflow_x_complete", sent[0]);
        Assert.Equal(2L, Convert.ToInt64(sent[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal((RedisKey)"{mf}:s:a", Assert.IsType<RedisKey>(sent[2]));
        Assert.Equal("{mf}:q:task", Assert.IsType<string>(sent[3]));
        Assert.Equal("group", sent[4]);
        Assert.Equal([86_400_000L, 300_000L, 86_400_000L], sent[5..].Select(n => Convert.ToInt64(n, System.Globalization.CultureInfo.InvariantCulture)));
        // The same number twice is one box.
        Assert.Same(sent[5], sent[7]);
    }

    [Fact]
    public void A_call_with_arguments_missing_or_a_key_after_the_values_is_refused_before_it_is_sent()
    {
        var missing = new ScriptArguments("f", keys: 1, values: 2);
        missing.Key("k");
        missing.Value("v");
        Assert.Contains("1 of the call's arguments were not written", Assert.Throws<InvalidOperationException>(missing.ToSend).Message);

        var late = new ScriptArguments("f", keys: 1, values: 1);
        late.Key("k");
        late.Value("v");
        Assert.Throws<InvalidOperationException>(() => late.Key("k2"));
    }
}
