using System.Text;
using MageFlow.Backends;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>An envelope keeps the fields most runs lack apart (one object, made only when one is set): it must read as a plain record.</summary>
public sealed class EnvelopeTests
{
    private static readonly TaskFailure Failure = new("failed-id", "task-f", "boom") { Kind = TaskFailureKind.Stalled };

    [Fact]
    public void Every_field_reads_back_as_made_whether_the_rare_ones_are_set_or_not()
    {
        var full = new Envelope("id", EnvelopeKind.ErrorInput, Utf8("{}"), Utf8("{\"call\":1}"), Failure, Utf8("{\"container\":2}"), Utf8("{\"outer\":3}"), "trace");
        var bare = new Envelope("id", EnvelopeKind.Message, Utf8("{}"));

        Assert.Equal(("{\"call\":1}", Failure, "{\"container\":2}", "{\"outer\":3}", "trace"),
            (Text(full.CallTimeKwargs), full.Failure, Text(full.ContainerKwargs), Text(full.OuterBase), full.TraceParent));
        Assert.Equal(("", (TaskFailure?)null, "", "", (string?)null),
            (Text(bare.CallTimeKwargs), bare.Failure, Text(bare.ContainerKwargs), Text(bare.OuterBase), bare.TraceParent));
    }

    [Fact]
    public void A_copy_with_one_rare_field_changed_keeps_every_other_field()
    {
        var original = new Envelope("id", EnvelopeKind.Message, Utf8("{}"), Utf8("{\"call\":1}"), Failure, default, Utf8("{\"outer\":3}"), "trace");

        var copy = original with { ContainerKwargs = Utf8("{\"container\":2}") };
        var cleared = copy with { CallTimeKwargs = default, Failure = null };

        Assert.Equal(("{\"call\":1}", Failure, "{\"container\":2}", "{\"outer\":3}", "trace"),
            (Text(copy.CallTimeKwargs), copy.Failure, Text(copy.ContainerKwargs), Text(copy.OuterBase), copy.TraceParent));
        Assert.Equal(("", (TaskFailure?)null, "{\"container\":2}", "{\"outer\":3}"),
            (Text(cleared.CallTimeKwargs), cleared.Failure, Text(cleared.ContainerKwargs), Text(cleared.OuterBase)));
        Assert.Equal("", Text(original.ContainerKwargs)); // the original is unchanged
    }

    [Fact]
    public void Envelopes_are_equal_when_their_fields_are()
    {
        var payload = Utf8("{}");
        var kwargs = Utf8("{\"call\":1}");

        Assert.Equal(new Envelope("id", EnvelopeKind.Message, payload, kwargs, Failure), new Envelope("id", EnvelopeKind.Message, payload, kwargs, Failure));
        Assert.NotEqual(new Envelope("id", EnvelopeKind.Message, payload, kwargs), new Envelope("id", EnvelopeKind.Message, payload, kwargs, Failure));
        Assert.NotEqual(new Envelope("id", EnvelopeKind.Message, payload), new Envelope("id", EnvelopeKind.Message, payload, kwargs));
    }

    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);
}
