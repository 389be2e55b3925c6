using MageFlow.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Samples.Orders.Tests;

/// <summary>
/// The sample's checkout, unit-tested with MageFlow.Testing: no worker, no Redis. The README's "Testing your tasks"
/// shows these tests.
/// </summary>
public sealed class CheckoutTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection()
        .AddMageFlow(o => o.UseRecording())
        .AddMageFlowTasksFrom<Checkout>()
        // What OrderTasks needs when ExecuteAsync runs a real body.
        .AddSingleton<Story>()
        .AddSingleton<PaymentGateway>()
        .AddScoped<OrderTasks>()
        .BuildServiceProvider();

    private Checkout Checkout => new(_services.GetRequiredService<IMageFlow>());

    private MageRecorder Recorder => _services.GetRequiredService<MageRecorder>();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Placing_an_order_runs_process_order_with_it_and_nothing_else()
    {
        await Checkout.PlaceOrderAsync(new OrderMessage("o-1", 12.5m));

        var run = Assert.Single(Recorder.Dispatches);
        Assert.Same(run, Recorder.AssertDispatched(ProcessOrder.TaskName, new { orderId = "o-1", amount = 12.5 }));
        Assert.Equal(["send-confirmation", "audit"], run.Signature.SuccessCallbacks.Select(s => s.TaskName));
        Assert.Equal(["notify-failure"], run.Signature.ErrorCallbacks.Select(s => s.TaskName));
    }

    [Fact]
    public async Task A_charged_order_is_confirmed_and_audited_with_its_receipt()
    {
        await Checkout.PlaceOrderAsync(new OrderMessage("o-1", 12.5m));
        var run = Recorder.AssertDispatched(ProcessOrder.TaskName, new { orderId = "o-1" });

        await Recorder.CompleteAsync(run, new OrderReceipt("o-1", 12.5m)); // as if process-order returned it

        Recorder.AssertDispatched(SendConfirmation.TaskName, new { receipt = new { orderId = "o-1", charged = 12.5 }, template = "welcome" });
        Recorder.AssertDispatched(Audit.TaskName, new { mageflow_results = new { orderId = "o-1" }, source = "checkout" });
        Recorder.AssertNotDispatched(NotifyFailure.TaskName);
    }

    [Fact]
    public async Task A_declined_order_is_reported_by_email_with_the_order()
    {
        await Checkout.PlaceOrderAsync(new OrderMessage("o-2", 99m, Priority: "low"));

        await Recorder.FailAsync(Recorder.AssertDispatched(ProcessOrder.TaskName), new InvalidOperationException("card declined"));

        var notify = Recorder.AssertDispatched(NotifyFailure.TaskName, new { orderId = "o-2", channel = "email" });
        Assert.Equal(new OrderFailedMessage("o-2", 99m, "low", "email"), notify.InputAs<OrderFailedMessage>());
        Assert.Equal("InvalidOperationException: card declined", notify.Failure?.Error);
        Recorder.AssertNotDispatched(SendConfirmation.TaskName);
    }

    [Fact]
    public async Task The_real_process_order_body_retries_a_declined_card_then_reports_it()
    {
        await Checkout.PlaceOrderAsync(new OrderMessage(PaymentGateway.DeclinedOrder, 99m));

        // ExecuteAsync runs the task body itself (OrderTasks from the container), retries at once, and records what follows.
        var dispatched = await Recorder.ExecuteAsync(Recorder.AssertDispatched(ProcessOrder.TaskName));

        var notify = Assert.Single(dispatched);
        Assert.Equal(NotifyFailure.TaskName, notify.TaskName);
        Assert.Equal($"InvalidOperationException: card declined for {PaymentGateway.DeclinedOrder}", notify.Failure?.Error);
    }

    [Fact]
    public async Task The_whole_workflow_runs_in_process_with_ExecuteAllAsync()
    {
        await Checkout.PlaceOrderAsync(new OrderMessage("o-3", 5m));

        await Recorder.ExecuteAllAsync();

        Assert.Equal(["send-confirmation", "audit"], _services.GetRequiredService<Story>().Arrivals);
        Assert.All(Recorder.Dispatches, d => Assert.Equal(RecordedOutcome.Completed, d.Outcome));
    }

    [Fact]
    public async Task A_batch_charges_two_orders_at_a_time_and_its_summary_gets_every_outcome()
    {
        await Checkout.ChargeBatchAsync("b-7", [new("o-9", 10m), new("o-10", 20m), new("o-11", 30m)], maxConcurrency: 2);

        var batch = Assert.Single(Recorder.Swarms);
        Assert.Equal(3, batch.Items.Count);
        Assert.Equal(["o-9", "o-10"], Recorder.DispatchesOf(ProcessOrder.TaskName).Select(d => d.InputAs<OrderMessage>().OrderId));
        Recorder.AssertDispatched(ProcessOrder.TaskName, new { orderId = "o-9", priority = "batch" });

        await Recorder.CompleteAsync(Recorder.AssertDispatched(ProcessOrder.TaskName, new { orderId = "o-9" }), new OrderReceipt("o-9", 10m));
        await Recorder.FailAsync(Recorder.AssertDispatched(ProcessOrder.TaskName, new { orderId = "o-10" }), new InvalidOperationException("card declined"));
        await Recorder.CompleteAsync(Recorder.AssertDispatched(ProcessOrder.TaskName, new { orderId = "o-11" }), new OrderReceipt("o-11", 30m));

        var summary = Recorder.AssertDispatched(SummarizeBatch.TaskName, new { batch = "b-7" }).InputAs<BatchSummaryMessage>();
        Assert.Equal([true, false, true], summary.Outcomes.Items.Select(o => o.Succeeded));
    }
}
