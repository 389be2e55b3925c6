using System.Text.Json;
using MageFlow.Testing.Tests.Tasks;

namespace MageFlow.Testing.Tests;

/// <summary>Each assertion passing, and failing with a message that says what was dispatched instead.</summary>
public sealed class AssertionTests
{
    private static readonly string NewLine = Environment.NewLine;

    private static async Task<(Recording Recording, TaskSignature Charge)> ChargedAsync(decimal amount = 12.5m)
    {
        var recording = new Recording();
        var charge = await ChargeCard.AsignAsync(recording.Mage, priority: "high");
        await charge.RunAsync(new OrderMessage("o-1", amount));
        return (recording, charge);
    }

    [Fact]
    public async Task AssertDispatched_returns_the_dispatch_whose_input_contains_the_partial_input()
    {
        var (recording, charge) = await ChargedAsync();
        using var _ = recording;

        Assert.Equal(charge.Id, recording.Recorder.AssertDispatched(ChargeCard.TaskName).SignatureId);
        Assert.Equal(charge.Id, recording.Recorder.AssertDispatched(ChargeCard.TaskName, new { orderId = "o-1", priority = "high" }).SignatureId);
        // Names as MageFlow writes them (OrderId is "orderId"), numbers by value (12.50 = 12.5).
        Assert.Equal(charge.Id, recording.Recorder.AssertDispatched(ChargeCard.TaskName, new { OrderId = "o-1", Amount = 12.50m }).SignatureId);
        Assert.Equal(charge.Id, recording.Recorder.AssertDispatched(ChargeCard.TaskName, JsonDocument.Parse("""{"amount":12.5}""").RootElement).SignatureId);
        // A message object is compared member by member, its nulls included.
        Assert.Equal(charge.Id, recording.Recorder.AssertDispatched(ChargeCard.TaskName, new OrderMessage("o-1", 12.5m, "high")).SignatureId);
    }

    [Fact]
    public async Task AssertDispatched_with_a_mismatching_input_shows_where_each_dispatch_differs_and_everything_dispatched()
    {
        var (recording, charge) = await ChargedAsync();
        using var _ = recording;

        var error = Assert.Throws<MageAssertionException>(() => recording.Recorder.AssertDispatched(ChargeCard.TaskName, new { orderId = "o-9" }));

        var run = $"#1 charge-card#{charge.Id} (run) {{\"orderId\":\"o-1\",\"amount\":12.5,\"priority\":\"high\"}}";
        Assert.Equal(
            $"Expected charge-card to be dispatched with an input containing {{\"orderId\":\"o-9\"}}.{NewLine}" +
            $"Its 1 dispatch did not match:{NewLine}" +
            $"  {run}{NewLine}" +
            $"     $.orderId: expected \"o-9\", got \"o-1\"{NewLine}" +
            $"Everything dispatched (1):{NewLine}" +
            $"  {run}",
            error.Message);
    }

    [Fact]
    public async Task AssertDispatched_names_a_missing_member_and_a_nested_difference()
    {
        var (recording, _) = await ChargedAsync();
        using var __ = recording;

        var missing = Assert.Throws<MageAssertionException>(() => recording.Recorder.AssertDispatched(ChargeCard.TaskName, new { currency = "EUR" }));
        Assert.Contains("$.currency is missing", missing.Message);
        var nested = Assert.Throws<MageAssertionException>(() => recording.Recorder.AssertDispatched(ChargeCard.TaskName, new { orderId = new { id = 1 } }));
        Assert.Contains("$.orderId: expected {\"id\":1}, got \"o-1\"", nested.Message);
    }

    [Fact]
    public async Task AssertDispatched_of_a_task_never_dispatched_says_so_and_lists_what_was()
    {
        var (recording, charge) = await ChargedAsync();
        using var _ = recording;

        var error = Assert.Throws<MageAssertionException>(() => recording.Recorder.AssertDispatched(SendReceipt.TaskName));

        Assert.Equal(
            $"Expected send-receipt to be dispatched.{NewLine}" +
            $"send-receipt was never dispatched.{NewLine}" +
            $"Everything dispatched (1):{NewLine}" +
            $"  #1 charge-card#{charge.Id} (run) {{\"orderId\":\"o-1\",\"amount\":12.5,\"priority\":\"high\"}}",
            error.Message);
    }

    [Fact]
    public void AssertDispatched_when_nothing_was_dispatched_says_so()
    {
        using var recording = new Recording();

        var error = Assert.Throws<MageAssertionException>(() => recording.Recorder.AssertDispatched(ChargeCard.TaskName, new { orderId = "o-1" }));

        Assert.Equal(
            $"Expected charge-card to be dispatched with an input containing {{\"orderId\":\"o-1\"}}.{NewLine}" +
            $"charge-card was never dispatched.{NewLine}" +
            "Nothing was dispatched at all.",
            error.Message);
    }

    [Fact]
    public async Task AssertNotDispatched_passes_for_another_task_and_fails_listing_the_dispatches_of_this_one()
    {
        var (recording, charge) = await ChargedAsync();
        using var _ = recording;

        recording.Recorder.AssertNotDispatched(SendReceipt.TaskName);
        var error = Assert.Throws<MageAssertionException>(() => recording.Recorder.AssertNotDispatched(ChargeCard.TaskName));
        Assert.Equal(
            $"Expected charge-card not to be dispatched, but it was once:{NewLine}" +
            $"  #1 charge-card#{charge.Id} (run) {{\"orderId\":\"o-1\",\"amount\":12.5,\"priority\":\"high\"}}",
            error.Message);
    }

    [Fact]
    public async Task AssertNothingDispatched_passes_when_only_signing_happened_and_fails_listing_each_run()
    {
        using var recording = new Recording();
        var charge = await ChargeCard.AsignAsync(recording.Mage);
        recording.Recorder.AssertNothingDispatched();

        await charge.RunAsync(new OrderMessage("o-1", 1m));
        await charge.RunAsync(new OrderMessage("o-2", 2m));
        var error = Assert.Throws<MageAssertionException>(recording.Recorder.AssertNothingDispatched);
        Assert.Equal(
            $"Expected nothing to be dispatched, but 2 runs were:{NewLine}" +
            $"  #1 charge-card#{charge.Id} (run) {{\"orderId\":\"o-1\",\"amount\":1,\"priority\":null}}{NewLine}" +
            $"  #2 charge-card#{charge.Id} (run) {{\"orderId\":\"o-2\",\"amount\":2,\"priority\":null}}",
            error.Message);
    }
}
