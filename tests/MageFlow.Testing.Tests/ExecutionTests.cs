using MageFlow.Testing.Tests.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Testing.Tests;

/// <summary>ExecuteAsync: a recorded run's real body, run in-process as a worker runs it.</summary>
public sealed class ExecutionTests
{
    [Fact]
    public async Task Executing_a_run_runs_its_body_with_the_composed_input_and_records_the_callbacks_with_its_result()
    {
        var ledger = new Ledger();
        using var recording = new Recording(services => services.AddSingleton(ledger).AddScoped<Bookkeeping>());
        var receipt = await SendReceipt.AsignAsync(recording.Mage, template: "booked");
        var book = await BookOrder.AsignAsync(recording.Mage, amount: 7m, successCallbacks: [receipt]);
        await book.RunAsync(new OrderMessage("o-5", 1m));

        var dispatched = await recording.Recorder.ExecuteAsync(recording.Recorder.AssertDispatched(BookOrder.TaskName));

        Assert.Equal(["o-5: 7"], ledger.Entries);
        Assert.Equal(new ReceiptMessage(new OrderReceipt("o-5", 7m), "booked"), Assert.Single(dispatched).InputAs<ReceiptMessage>());
    }

    [Fact]
    public async Task A_failing_body_is_retried_at_once_then_its_error_callbacks_are_recorded()
    {
        using var recording = new Recording();
        var notify = await NotifyFailure.AsignAsync(recording.Mage, channel: "email");
        var charge = await ChargeCard.AsignAsync(recording.Mage, errorCallbacks: [notify]);
        await charge.RunAsync(new OrderMessage("o-declined", ShopTasks.DeclinedAmount));

        var run = recording.Recorder.AssertDispatched(ChargeCard.TaskName);
        var dispatched = await recording.Recorder.ExecuteAsync(run);

        Assert.Equal(3, BodyRuns.Of("charge-card", "o-declined")); // Retries = 2
        Assert.Equal(RecordedOutcome.Failed, run.Outcome);
        var callback = Assert.Single(dispatched);
        Assert.Equal(new OrderFailedMessage("o-declined", ShopTasks.DeclinedAmount, null, "email"), callback.InputAs<OrderFailedMessage>());
        Assert.Equal("InvalidOperationException: card declined for o-declined", callback.Failure?.Error);
        Assert.Equal(3, (await charge.GetInfoAsync()).Attempts);
    }

    [Fact]
    public async Task Retries_made_at_once_are_attempts_not_stalls_so_a_run_may_use_every_retry_it_has()
    {
        using var recording = new Recording();
        var receipt = await SendReceipt.AsignAsync(recording.Mage, template: "stock");
        var reserve = await ReserveStock.AsignAsync(recording.Mage, successCallbacks: [receipt]);
        await reserve.RunAsync(new OrderMessage("o-stock", 3m));

        var run = recording.Recorder.AssertDispatched(ReserveStock.TaskName);
        var dispatched = await recording.Recorder.ExecuteAsync(run);

        // Six starts of one entry: a worker would call five of them stalls, more than MaxStalls (3), and give up.
        Assert.Equal(RecordedOutcome.Completed, run.Outcome);
        Assert.Equal(6, BodyRuns.Of("reserve-stock", "o-stock"));
        Assert.Equal(6, (await reserve.GetInfoAsync()).Attempts);
        Assert.Equal(SendReceipt.TaskName, Assert.Single(dispatched).TaskName);
    }

    [Fact]
    public async Task ExecuteAllAsync_runs_every_waiting_run_and_what_they_dispatch_but_leaves_a_suspended_one()
    {
        using var recording = new Recording();
        var receipt = await SendReceipt.AsignAsync(recording.Mage, template: "t");
        var charge = await ChargeCard.AsignAsync(recording.Mage, successCallbacks: [receipt]);
        var held = await ChargeCard.AsignAsync(recording.Mage);
        await charge.RunAsync(new OrderMessage("o-all-1", 2m));
        await held.RunAsync(new OrderMessage("o-all-2", 2m));
        await held.SuspendAsync();

        await recording.Recorder.ExecuteAllAsync();

        Assert.Equal(
            [(ChargeCard.TaskName, RecordedOutcome.Completed), (ChargeCard.TaskName, RecordedOutcome.NotRun), (SendReceipt.TaskName, RecordedOutcome.Completed)],
            recording.Recorder.Dispatches.Select(d => (d.TaskName, d.Outcome)));
        Assert.Equal(0, BodyRuns.Of("charge-card", "o-all-2"));
        Assert.Equal(SignatureStatus.Suspended, await held.GetStatusAsync());
    }

    [Fact]
    public async Task ExecuteAllAsync_stops_after_maxRuns_runs_naming_the_next_waiting_one()
    {
        using var recording = new Recording();
        foreach (var orderId in new[] { "o-max-1", "o-max-2", "o-max-3" })
            await (await ChargeCard.AsignAsync(recording.Mage)).RunAsync(new OrderMessage(orderId, 1m));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => recording.Recorder.ExecuteAllAsync(maxRuns: 2));

        Assert.StartsWith("ExecuteAllAsync executed 2 runs and runs still wait (the next: #3 charge-card#", error.Message);
    }

    [Fact]
    public async Task A_task_this_process_does_not_know_cannot_be_executed()
    {
        using var recording = new Recording();
        var elsewhere = await recording.Mage.AsignAsync<OrderMessage>("billed-elsewhere");
        await elsewhere.RunAsync(new OrderMessage("o-6", 1m));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => recording.Recorder.ExecuteAsync(recording.Recorder.AssertDispatched("billed-elsewhere")));

        Assert.Contains("no task named 'billed-elsewhere' is registered in this process", error.Message);
        Assert.Equal(RecordedOutcome.Waiting, recording.Recorder.Dispatches[0].Outcome);
    }
}
