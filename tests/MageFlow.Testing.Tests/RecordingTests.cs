using MageFlow.Testing.Tests.Tasks;
using Microsoft.Extensions.Hosting;

namespace MageFlow.Testing.Tests;

/// <summary>What <c>UseRecording()</c> records: signatures, dispatches with their composed inputs, chains and swarms.</summary>
public sealed class RecordingTests
{
    [Fact]
    public async Task A_signature_is_recorded_with_its_task_kwargs_and_callbacks_and_later_kwargs_updates()
    {
        using var recording = new Recording();
        var receipt = await SendReceipt.AsignAsync(recording.Mage, template: "welcome");
        var notify = await NotifyFailure.AsignAsync(recording.Mage, channel: "email");
        var charge = await ChargeCard.AsignAsync(recording.Mage, priority: "low", successCallbacks: [receipt], errorCallbacks: [notify]);
        await charge.Kwargs.UpdateAsync(priority: "high");

        var recorded = recording.Recorder.GetSignature(charge.Id);
        Assert.Equal("charge-card", recorded.TaskName);
        Assert.Equal(RecordedSignatureKind.Task, recorded.Kind);
        Assert.Equal("""{"priority":"high"}""", recorded.Kwargs.GetRawText());
        Assert.Equal([receipt.Id], recorded.SuccessCallbacks.Select(s => s.Id));
        Assert.Equal([notify.Id], recorded.ErrorCallbacks.Select(s => s.Id));
        Assert.Equal("receipt", recording.Recorder.GetSignature(receipt.Id).ReturnField);
        Assert.Equal([receipt.Id, notify.Id, charge.Id], recording.Recorder.Signatures.Select(s => s.Id));
    }

    [Fact]
    public async Task A_run_is_recorded_with_the_input_a_worker_would_compose_and_no_body_runs()
    {
        using var recording = new Recording();
        var charge = await ChargeCard.AsignAsync(recording.Mage, priority: "bound", amount: 1m);
        await charge.RunAsync(new OrderMessage("o-1", 12.5m, Priority: "message"), kwargs: new { priority = "call-time" });

        var run = Assert.Single(recording.Recorder.Dispatches);
        Assert.Equal("charge-card", run.TaskName);
        Assert.Equal(charge.Id, run.SignatureId);
        Assert.Equal(DispatchReason.Run, run.Reason);
        Assert.Equal(RecordedOutcome.Waiting, run.Outcome);
        // Rule 2: call-time kwargs > bound kwargs > message.
        Assert.Equal("""{"orderId":"o-1","amount":1,"priority":"call-time"}""", run.InputJson);
        Assert.Equal(new OrderMessage("o-1", 1m, "call-time"), run.InputAs<OrderMessage>());
        Assert.Equal(SignatureStatus.Pending, await charge.GetStatusAsync());
        Assert.Equal(0, BodyRuns.Of("charge-card", "o-1"));
    }

    [Fact]
    public async Task A_chain_is_recorded_with_its_steps_and_its_first_step_gets_the_chain_message_and_kwargs()
    {
        using var recording = new Recording();
        var validate = await ValidateOrder.AsignAsync(recording.Mage);
        var charge = await ChargeValidated.AsignAsync(recording.Mage);
        var receipt = await SendReceipt.AsignAsync(recording.Mage, template: "shipped");
        var chain = await recording.Mage.ChainAsync([validate, charge], successCallbacks: [receipt], kwargs: new { currency = "USD" });
        await chain.RunAsync(new OrderMessage("o-2", 20m));

        var recorded = Assert.Single(recording.Recorder.Chains);
        Assert.Equal(chain.Id, recorded.Id);
        Assert.Equal(RecordedSignatureKind.Chain, recorded.Kind);
        Assert.Equal(["validate-order", "charge-validated"], recorded.Steps.Select(s => s.TaskName));
        Assert.Equal([receipt.Id], recorded.SuccessCallbacks.Select(s => s.Id));
        Assert.Equal("""{"currency":"USD"}""", recorded.Kwargs.GetRawText());
        Assert.Same(recorded, recording.Recorder.GetSignature(validate.Id).Parent);

        var first = Assert.Single(recording.Recorder.Dispatches);
        Assert.Equal(DispatchReason.ChainStep, first.Reason);
        Assert.Equal(validate.Id, first.SignatureId);
        Assert.Same(recorded, first.Parent);
        Assert.Equal("""{"orderId":"o-2","amount":20,"priority":null,"currency":"USD"}""", first.InputJson);
    }

    [Fact]
    public async Task A_swarm_is_recorded_with_its_items_and_starts_no_more_than_MaxConcurrency_of_them()
    {
        using var recording = new Recording();
        var summary = await SummarizeBatch.AsignAsync(recording.Mage, batch: "b-1");
        var swarm = await recording.Mage.SwarmAsync(new SwarmOptions { MaxConcurrency = 2 }, successCallbacks: [summary], kwargs: new { priority = "batch" });
        foreach (var orderId in new[] { "o-1", "o-2", "o-3" })
            await swarm.RunInSwarmAsync(await ChargeCard.AsignAsync(recording.Mage), new OrderMessage(orderId, 10m));

        var recorded = Assert.Single(recording.Recorder.Swarms);
        Assert.Equal(3, recorded.Items.Count);
        Assert.Equal(2, recorded.SwarmOptions!.MaxConcurrency);
        Assert.All(recorded.Items, item => Assert.Same(recorded, item.Parent));
        Assert.Equal(["o-1", "o-2"], recording.Recorder.Dispatches.Select(d => d.InputAs<OrderMessage>().OrderId));
        Assert.All(recording.Recorder.Dispatches, d => Assert.Equal(DispatchReason.SwarmItem, d.Reason));
        Assert.Equal("batch", recording.Recorder.Dispatches[0].InputAs<OrderMessage>().Priority);
    }

    [Fact]
    public async Task Recorded_signatures_and_runs_stay_after_the_store_deletes_the_signature()
    {
        using var recording = new Recording(configureOptions: o => o.DoneTtl = TimeSpan.Zero);
        var charge = await ChargeCard.AsignAsync(recording.Mage, priority: "high");
        await charge.RunAsync(new OrderMessage("o-1", 1m));
        await recording.Recorder.CompleteAsync(recording.Recorder.Dispatches[0], new OrderReceipt("o-1", 1m));

        await Assert.ThrowsAsync<SignatureNotFoundException>(() => charge.GetStatusAsync());
        Assert.Equal("""{"priority":"high"}""", recording.Recorder.GetSignature(charge.Id).Kwargs.GetRawText());
        Assert.Equal(RecordedOutcome.Completed, Assert.Single(recording.Recorder.Dispatches).Outcome);
    }

    [Fact]
    public async Task A_worker_next_to_UseRecording_fails_at_start_saying_what_to_change()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddMageFlow(o => o.UseRecording());
        builder.Services.AddMageFlowWorker();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => host.StartAsync());
        Assert.Contains("UseRecording()", error.Message);
        Assert.Contains("Remove AddMageFlowWorker()", error.Message);
    }

    [Fact]
    public void Asking_for_a_signature_that_was_never_created_names_the_ones_that_were()
    {
        using var recording = new Recording();

        var error = Assert.Throws<MageAssertionException>(() => recording.Recorder.GetSignature("nope"));
        Assert.Equal($"No signature nope was created.{Environment.NewLine}No signature was created at all.", error.Message);
    }
}
