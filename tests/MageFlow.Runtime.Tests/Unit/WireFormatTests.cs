using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>Rule 3: camelCase names, case-insensitive reads, MageflowResults ↔ mageflow_results, clear type errors.</summary>
public sealed class WireFormatTests
{
    private sealed record Audit(string? MageflowResults, string Source);

    private sealed record Strict(string Name, int Count);

    [Fact]
    public void Members_are_written_camelCase_and_MageflowResults_as_mageflow_results() =>
        Assert.Equal("""{"mageflowResults":null,"source":"s"}""".Replace("mageflowResults", "mageflow_results"),
            JsonSerializer.Serialize(new Audit(null, "s"), MageJson.DefaultOptions));

    [Fact]
    public void Reads_are_case_insensitive() =>
        Assert.Equal(new Audit("r", "s"), JsonSerializer.Deserialize<Audit>("""{"MAGEFLOW_RESULTS":"r","SOURCE":"s"}""", MageJson.DefaultOptions));

    [Fact]
    public void A_missing_required_member_is_an_error() =>
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<Strict>("""{"name":"x"}""", MageJson.DefaultOptions));

    [Fact]
    public void Null_in_a_non_nullable_member_is_an_error() =>
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<Strict>("""{"name":null,"count":1}""", MageJson.DefaultOptions));

    [Fact]
    public async Task A_descriptor_reports_the_member_path_and_both_types_when_input_does_not_fit()
    {
        var ran = false;
        var task = TaskDescriptor.Create<Strict>("strict", (_, _, _) => { ran = true; return ValueTask.CompletedTask; });
        var context = new TaskContext("sig", "strict", 1, 1, new ServiceCollection().BuildServiceProvider().GetRequiredService<IServiceScopeFactory>(), null);

        var error = await Assert.ThrowsAsync<MessageDeserializationException>(async () =>
            await task.InvokeAsync("""{"name":"x","count":"many"}"""u8.ToArray(), context, MageJson.DefaultOptions, default));

        Assert.False(ran);

        Assert.Equal("$.count", error.MemberPath);
        Assert.Contains("'strict'", error.Message);
        Assert.Contains(typeof(Strict).FullName!, error.Message);
        Assert.Contains("System.Int32", error.Message);
        Assert.Contains("\"many\"", error.Message);
    }
}
