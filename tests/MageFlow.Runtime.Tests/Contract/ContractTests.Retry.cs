using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>
/// Retrying a Failed task (an operator's action, e.g. from the dashboard): it runs again with the input of the run that
/// failed, and its outcome fires the callbacks that can still run, on every backend.
/// </summary>
public abstract partial class ContractTests
{
    private const string Flip = "flip";

    /// <summary>A task that fails for good while <see cref="FlipSwitch.Failing"/> is set, and charges the order once it is not.</summary>
    private sealed class FlipSwitch
    {
        public volatile bool Failing = true;

        public TaskDescriptor Task(Recorder recorder) => TaskDescriptor.Create<OrderMessage, OrderReceipt>(Flip, (message, context, _) =>
        {
            recorder.Add(Flip, message, context);
            return Failing
                ? throw new NonRetryableException($"card declined for {message.OrderId}")
                : ValueTask.FromResult(new OrderReceipt(message.OrderId, message.Amount));
        });
    }

    [Fact]
    public async Task Retry_runs_a_failed_task_again_with_its_failed_input_and_fires_its_success_callbacks()
    {
        var flip = new FlipSwitch();
        var shop = new Shop();
        var (cluster, _) = await StartAsync(shop, o => o.AddTask(flip.Task(shop.Recorder)));
        await using var _ = cluster;
        var mage = cluster.Client;
        var confirm = await mage.AsignAsync(Shop.SendConfirmation, new { template = "retried" });
        var notify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await mage.AsignAsync(Flip, new { priority = "bound" }, [confirm], [notify]);
        var id = NewOrderId();

        await order.RunAsync(new OrderMessage(id, 7m), kwargs: new { amount = 8m });
        await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1);
        var failed = await order.GetInfoAsync();
        Assert.Equal(SignatureStatus.Failed, failed.Status);
        Assert.True(failed.CanRetry);
        Assert.Equal(id, failed.FailedInput!.Value.GetProperty("orderId").GetString());
        Assert.Equal(8m, failed.FailedInput.Value.GetProperty("amount").GetDecimal()); // call-time kwargs are part of it

        flip.Failing = false;
        await order.RetryAsync();

        var confirmation = (ConfirmationMessage)Assert.Single(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1)).Message!;
        Assert.Equal(new OrderReceipt(id, 8m), confirmation.Receipt);
        var runs = shop.Recorder.Of(Flip);
        Assert.Equal(2, runs.Count);
        Assert.Equal(new OrderMessage(id, 8m, "bound"), runs[1].Message); // the failed run's input, kwargs bound again
        Assert.Equal(1, runs[1].Attempt);                                  // attempts count from 0 again
        await WaitForInfoAsync(order, info => info.Status == SignatureStatus.Done, "is Done");
        Assert.Null((await order.GetInfoAsync()).FailedInput);
        Assert.Single(shop.Recorder.Of(Shop.NotifyFailure));               // the error callback that ran does not run again
    }

    [Fact]
    public async Task Retry_that_fails_again_does_not_run_the_error_callback_that_already_ran()
    {
        var flip = new FlipSwitch();
        var shop = new Shop();
        var (cluster, _) = await StartAsync(shop, o => o.AddTask(flip.Task(shop.Recorder)));
        await using var _ = cluster;
        var mage = cluster.Client;
        var notify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await mage.AsignAsync(Flip, errorCallbacks: [notify]);
        var id = NewOrderId();
        await order.RunAsync(new OrderMessage(id, 3m));
        await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1);
        await WaitForInfoAsync(order, info => info.Status == SignatureStatus.Failed, "is Failed");

        await order.RetryAsync();

        await shop.Recorder.WaitForAsync(Flip, 2);
        await WaitForInfoAsync(order, info => info.Status == SignatureStatus.Failed && info.Attempts == 1, "failed again");
        // Alive: a run queued on the error callback's task after the second failure has run, so the callback's second
        // dispatch (queued before it) has been taken and skipped.
        var sentinel = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "sentinel" });
        await sentinel.RunAsync(new OrderMessage(NewOrderId(), 1m));
        await Recorder.WaitUntilAsync(() => Task.FromResult(shop.Recorder.Of(Shop.NotifyFailure).Any(r => ((OrderFailedMessage)r.Message!).Channel == "sentinel")),
            "the sentinel notification ran");
        var notified = shop.Recorder.Of(Shop.NotifyFailure).Where(r => r.SignatureId == notify.Id).ToArray();
        Assert.Single(notified);
        Assert.Equal(id, ((OrderFailedMessage)notified[0].Message!).OrderId);
        Assert.Equal((SignatureStatus.Done, 1), ((await notify.GetInfoAsync()).Status, (await notify.GetInfoAsync()).Attempts));
    }

    [Fact]
    public async Task Retry_refuses_what_is_not_a_failed_task_on_its_own_saying_why()
    {
        var shop = new Shop();
        var (cluster, _) = await StartAsync(shop);
        await using var _ = cluster;
        var mage = cluster.Client;
        var pending = await mage.AsignAsync(Shop.ProcessOrder);
        var done = await mage.AsignAsync(Shop.ProcessOrder);
        await done.RunAsync(Order(NewOrderId(), 1m));
        await WaitForInfoAsync(done, info => info.Status == SignatureStatus.Done, "is Done");
        var step = await mage.AsignAsync(Shop.ProcessOrder);
        var chain = await mage.ChainAsync([step, await mage.AsignAsync(Shop.Ship)]);
        await chain.RunAsync(Order(NewOrderId("fatal"), 1m));
        await WaitForInfoAsync(chain, info => info.Status == SignatureStatus.Failed, "is Failed");

        foreach (var refused in new TaskSignature[] { pending, done, chain, step })
            Assert.False((await refused.GetInfoAsync()).CanRetry, $"{refused} must not offer a retry");
        var notFailed = await Assert.ThrowsAsync<InvalidOperationException>(() => pending.RetryAsync());
        var finishedWell = await Assert.ThrowsAsync<InvalidOperationException>(() => done.RetryAsync());
        var container = await Assert.ThrowsAsync<InvalidOperationException>(() => chain.RetryAsync());
        var ofAChain = await Assert.ThrowsAsync<InvalidOperationException>(() => step.RetryAsync());

        Assert.Contains($"{pending.Id}", notFailed.Message);
        Assert.Contains("it is Pending", notFailed.Message);
        Assert.Contains("it is Done", finishedWell.Message);
        Assert.Contains("it is a chain", container.Message);
        Assert.Contains($"step or item of {chain.Id}", ofAChain.Message);
        Assert.Equal(SignatureStatus.Failed, await step.GetStatusAsync());
        Assert.Equal(SignatureStatus.Pending, await pending.GetStatusAsync());
    }
}
