using System.Text;
using System.Text.Json;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>The runtime halves of the generated builders: what the one-line members they emit rely on.</summary>
public sealed class GeneratedSigningTests
{
    [Fact]
    public void AddIfSet_binds_the_members_passed_null_included_and_skips_the_others()
    {
        var kwargs = new KwargsBuilder(JsonSerializerOptions.Default)
            .AddIfSet("orderId", new Optional<string>("o-1"))
            .AddIfSet("priority", new Optional<string?>(null))
            .AddIfSet("amount", default(Optional<decimal>));

        Assert.Equal(
            [("orderId", "\"o-1\""), ("priority", "null")],
            kwargs.Entries.Select(entry => (entry.Key, Encoding.UTF8.GetString(entry.Value))));
    }

    [Fact]
    public void NewKwargs_refuses_a_missing_client_by_the_builder_parameter_name()
    {
        var error = Assert.Throws<ArgumentNullException>(() => GeneratedSigning.NewKwargs(null!));
        Assert.Equal("mage", error.ParamName);
    }
}
