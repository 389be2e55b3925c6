using MageFlow.Testing.Tests.Tasks;

namespace MageFlow.Testing.Tests;

/// <summary>
/// Finishing a recorded run with a result or a failure: the callbacks, next chain steps and swarm callbacks it
/// dispatches are recorded with the inputs a worker would give them.
/// </summary>
public sealed class FinishingTests
{
    private sealed record Order(Recording Recording, TaskSignature Charge, TaskSignature Receipt, TaskSignature Audit, TaskSignature Notify, RecordedDispatch Run) : IDisposable
    {
        public MageRecorder Recorder => Recording.Recorder;

        public void Dispose() => Recording.Dispose();
    }

    private static async Task<Order> PlaceOrderAsync()
    {
        var recording = new Recording();
        var receipt = await SendReceipt.AsignAsync(recording.Mage, template: "welcome");
        var audit = await Audit.AsignAsync(recording.Mage, source: "checkout");
        var notify = await NotifyFailure.AsignAsync(recording.Mage, channel: "email");
        var charge = await ChargeCard.AsignAsync(recording.Mage, priority: "high", successCallbacks: [receipt, audit], errorCallbacks: [notify]);
        await charge.RunAsync(new OrderMessage("o-1", 12.5m));
        return new Order(recording, charge, receipt, audit, notify, recording.Recorder.AssertDispatched(ChargeCard.TaskName));
    }

    [Fact]
    public async Task Completing_a_run_dispatches_its_success_callbacks_with_the_result_in_their_return_member()
    {
        using var order = await PlaceOrderAsync();

        var dispatched = await order.Recorder.CompleteAsync(order.Run, new OrderReceipt("o-1", 12.5m));

        Assert.Equal([order.Receipt.Id, order.Audit.Id], dispatched.Select(d => d.SignatureId));
        var receipt = order.Recorder.AssertDispatched(SendReceipt.TaskName, new { receipt = new { orderId = "o-1", charged = 12.5 }, template = "welcome" });
        Assert.Equal(new ReceiptMessage(new OrderReceipt("o-1", 12.5m), "welcome"), receipt.InputAs<ReceiptMessage>());
        Assert.Equal(DispatchReason.SuccessCallback, receipt.Reason);
        Assert.Equal(order.Charge.Id, receipt.CallbackOf?.Id);
        // No [ReturnValue] member: the result goes into mageflow_results.
        var audit = order.Recorder.AssertDispatched(Audit.TaskName, new { mageflow_results = new { orderId = "o-1" }, source = "checkout" });
        Assert.Equal(new AuditMessage(new OrderReceipt("o-1", 12.5m), "checkout"), audit.InputAs<AuditMessage>());
        order.Recorder.AssertNotDispatched(NotifyFailure.TaskName);
        Assert.Equal(SignatureStatus.Done, await order.Charge.GetStatusAsync());
        Assert.Equal(RecordedOutcome.Completed, order.Run.Outcome);
        Assert.Equal(0, BodyRuns.Of("charge-card", "o-1"));
    }

    [Fact]
    public async Task Failing_a_run_dispatches_its_error_callbacks_with_the_failed_input_their_bound_fields_and_the_failure()
    {
        using var order = await PlaceOrderAsync();

        var dispatched = await order.Recorder.FailAsync(order.Run, new InvalidOperationException("card declined"));

        var notify = Assert.Single(dispatched);
        Assert.Same(notify, order.Recorder.AssertDispatched(NotifyFailure.TaskName, new { orderId = "o-1", amount = 12.5, priority = "high", channel = "email" }));
        Assert.Equal(new OrderFailedMessage("o-1", 12.5m, "high", "email"), notify.InputAs<OrderFailedMessage>());
        Assert.Equal(DispatchReason.ErrorCallback, notify.Reason);
        Assert.Equal(order.Charge.Id, notify.CallbackOf?.Id);
        Assert.Equal(new TaskFailure(order.Charge.Id, "charge-card", "InvalidOperationException: card declined"), notify.Failure);
        order.Recorder.AssertNotDispatched(SendReceipt.TaskName);
        Assert.Equal(SignatureStatus.Failed, await order.Charge.GetStatusAsync());
        Assert.Equal(RecordedOutcome.Failed, order.Run.Outcome);
    }

    [Fact]
    public async Task A_result_of_the_wrong_type_is_refused_naming_both_types()
    {
        using var order = await PlaceOrderAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => order.Recorder.CompleteAsync(order.Run, "a string"));

        Assert.StartsWith($"Task 'charge-card' returns {typeof(OrderReceipt).FullName}, but a System.String was given as its result.", error.Message);
        order.Recorder.AssertNotDispatched(SendReceipt.TaskName);
    }

    [Fact]
    public async Task A_run_is_finished_once()
    {
        using var order = await PlaceOrderAsync();
        await order.Recorder.CompleteAsync(order.Run, new OrderReceipt("o-1", 12.5m));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => order.Recorder.FailAsync(order.Run, new InvalidOperationException("late")));

        Assert.Contains("was finished already (Completed)", error.Message);
        order.Recorder.AssertNotDispatched(NotifyFailure.TaskName);
    }

    [Fact]
    public async Task A_run_of_a_suspended_signature_is_parked_as_a_worker_parks_it_and_resume_dispatches_it_again()
    {
        using var order = await PlaceOrderAsync();
        await order.Charge.SuspendAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => order.Recorder.CompleteAsync(order.Run, new OrderReceipt("o-1", 12.5m)));
        Assert.Contains("its signature is Suspended: the run was parked for ResumeAsync", error.Message);
        Assert.Equal(RecordedOutcome.NotRun, order.Run.Outcome);

        await order.Charge.ResumeAsync();
        var resumed = order.Recorder.Dispatches[^1];
        Assert.Equal(2, order.Recorder.DispatchesOf(ChargeCard.TaskName).Count);
        Assert.Equal(order.Run.InputJson, resumed.InputJson);
        await order.Recorder.CompleteAsync(resumed, new OrderReceipt("o-1", 12.5m));
        order.Recorder.AssertDispatched(SendReceipt.TaskName);
    }

    [Fact]
    public async Task RunAndWaitAsync_returns_once_the_test_completes_the_recorded_run()
    {
        using var recording = new Recording();
        var charge = await ChargeCard.AsignAsync(recording.Mage);
        var waiting = charge.RunAndWaitAsync(new OrderMessage("o-1", 3m), TimeSpan.FromSeconds(30));

        await recording.Recorder.CompleteAsync(recording.Recorder.AssertDispatched(ChargeCard.TaskName), new OrderReceipt("o-1", 3m));

        Assert.Equal(new OrderReceipt("o-1", 3m), await waiting);
    }

    [Fact]
    public async Task Completing_chain_steps_dispatches_the_next_step_with_the_result_and_the_chain_kwargs_then_the_chain_callbacks()
    {
        using var recording = new Recording();
        var recorder = recording.Recorder;
        var validate = await ValidateOrder.AsignAsync(recording.Mage);
        var charge = await ChargeValidated.AsignAsync(recording.Mage);
        var receipt = await SendReceipt.AsignAsync(recording.Mage, template: "charged");
        var chain = await recording.Mage.ChainAsync([validate, charge], successCallbacks: [receipt], kwargs: new { currency = "USD" });
        await chain.RunAsync(new OrderMessage("o-2", 20m));

        var second = Assert.Single(await recorder.CompleteAsync(recorder.AssertDispatched(ValidateOrder.TaskName), new ValidatedOrder("o-2", 20m)));
        Assert.Equal(DispatchReason.ChainStep, second.Reason);
        Assert.Equal(new ChargeMessage(new ValidatedOrder("o-2", 20m), "USD"), second.InputAs<ChargeMessage>());
        recorder.AssertNotDispatched(SendReceipt.TaskName);

        var callback = Assert.Single(await recorder.CompleteAsync(second, new OrderReceipt("o-2", 20m)));
        Assert.Equal(new ReceiptMessage(new OrderReceipt("o-2", 20m), "charged"), callback.InputAs<ReceiptMessage>());
        Assert.Equal(chain.Id, callback.CallbackOf?.Id);
        Assert.Equal(SignatureStatus.Done, await chain.GetStatusAsync());
    }

    [Fact]
    public async Task A_failing_chain_step_dispatches_the_chain_error_callbacks_with_that_step_input()
    {
        using var recording = new Recording();
        var recorder = recording.Recorder;
        var validate = await ValidateOrder.AsignAsync(recording.Mage);
        var charge = await ChargeValidated.AsignAsync(recording.Mage);
        var notify = await NotifyFailure.AsignAsync(recording.Mage, channel: "sms");
        var chain = await recording.Mage.ChainAsync([validate, charge], errorCallbacks: [notify]);
        await chain.RunAsync(new OrderMessage("o-3", 30m, "low"));

        var dispatched = await recorder.FailAsync(recorder.AssertDispatched(ValidateOrder.TaskName), new ArgumentException("amount too high"));

        var callback = Assert.Single(dispatched);
        Assert.Equal(new OrderFailedMessage("o-3", 30m, "low", "sms"), callback.InputAs<OrderFailedMessage>());
        Assert.Equal(chain.Id, callback.CallbackOf?.Id);
        Assert.Equal("ArgumentException: amount too high", callback.Failure?.Error);
        recorder.AssertNotDispatched(ChargeValidated.TaskName);
        Assert.Equal(SignatureStatus.Failed, await chain.GetStatusAsync());
    }

    [Fact]
    public async Task Finishing_swarm_items_starts_the_waiting_ones_and_the_closed_swarm_callbacks_get_every_outcome()
    {
        using var recording = new Recording();
        var recorder = recording.Recorder;
        var summary = await SummarizeBatch.AsignAsync(recording.Mage, batch: "b-1");
        var total = await TotalBatch.AsignAsync(recording.Mage);
        var swarm = await recording.Mage.SwarmAsync(new SwarmOptions { MaxConcurrency = 2 }, successCallbacks: [summary, total]);
        foreach (var orderId in new[] { "o-1", "o-2", "o-3" })
            await swarm.RunInSwarmAsync(await ChargeCard.AsignAsync(recording.Mage), new OrderMessage(orderId, 10m));
        await swarm.CloseAsync();

        var first = recorder.AssertDispatched(ChargeCard.TaskName, new { orderId = "o-1" });
        var third = Assert.Single(await recorder.CompleteAsync(first, new OrderReceipt("o-1", 10m)));
        Assert.Equal("o-3", third.InputAs<OrderMessage>().OrderId);
        await recorder.FailAsync(recorder.AssertDispatched(ChargeCard.TaskName, new { orderId = "o-2" }), new InvalidOperationException("declined"));
        recorder.AssertNotDispatched(SummarizeBatch.TaskName);
        var callbacks = await recorder.CompleteAsync(third, new OrderReceipt("o-3", 10m));

        Assert.Equal([summary.Id, total.Id], callbacks.Select(d => d.SignatureId));
        var outcomes = callbacks[0].InputAs<BatchSummaryMessage>().Outcomes.Items;
        Assert.Equal([true, false, true], outcomes.Select(o => o.Succeeded));
        Assert.Equal("InvalidOperationException: declined", outcomes[1].Error);
        Assert.Equal([new OrderReceipt("o-1", 10m), new OrderReceipt("o-3", 10m)], callbacks[1].InputAs<BatchTotalMessage>().Receipts);
        Assert.Equal(swarm.Id, callbacks[0].CallbackOf?.Id);
    }
}
