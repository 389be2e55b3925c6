using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>Rules 24–26 and contract §5 (suspend, interrupt, resume, cancel), on every backend, races included.</summary>
public abstract partial class ContractTests
{
    private static Task WaitForInfoAsync(TaskSignature signature, Func<SignatureInfo, bool> condition, string what) =>
        Recorder.WaitUntilAsync(async () => condition(await signature.GetInfoAsync()), $"{signature} {what}");

    /// <summary>Runs a "gate-*" order and returns its id once its body waits at its gate.</summary>
    private static async Task<string> RunAtGateAsync(TaskSignature signature, Shop shop, decimal amount = 1m)
    {
        var id = $"gate-{Guid.NewGuid():N}";
        await signature.RunAsync(new OrderMessage(id, amount));
        await shop.Gates.WaitEnteredAsync(id);
        return id;
    }

    private static async Task<(TaskSignature Order, TaskSignature Confirm, TaskSignature Notify)> SignOrderAsync(IMageFlow mage)
    {
        var confirm = await mage.AsignAsync(Shop.SendConfirmation, new { template = "lifecycle" });
        var notify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm], errorCallbacks: [notify]);
        return (order, confirm, notify);
    }

    // ---- rule 24: runs that arrive while paused are parked ----

    [Fact]
    public async Task Rule24_a_run_that_arrives_while_suspended_is_parked_and_resume_dispatches_it_once()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, confirm, _) = await SignOrderAsync(cluster.Client);
        var id = NewOrderId();

        await order.SuspendAsync();
        Assert.Equal((SignatureStatus.Suspended, SignatureStatus.Pending, 0), await order.StateAsync());
        await order.RunAsync(new OrderMessage(id, 7m));

        await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has its run parked");
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.ProcessOrder));
        Assert.Equal((SignatureStatus.Suspended, SignatureStatus.Active, 0), await order.StateAsync());

        await order.ResumeAsync();

        var confirmation = (ConfirmationMessage)(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1))[0].Message!;
        Assert.Equal(new OrderReceipt(id, 7m), confirmation.Receipt);
        await WaitForInfoAsync(order, i => i.Status == SignatureStatus.Done, "is done");
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));
        Assert.Single(shop.Recorder.Of(Shop.SendConfirmation));
        Assert.Equal(0, (await order.GetInfoAsync()).ParkedRuns);
        Assert.Equal(SignatureStatus.Done, await confirm.GetStatusAsync());
    }

    [Fact]
    public async Task Rule24_suspend_while_the_run_waits_in_the_queue_parks_it()
    {
        var (cluster, shop) = await StartAsync(workers: 0);
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);

        await order.RunAsync(new OrderMessage(NewOrderId(), 1m)); // queued, no worker yet
        await order.SuspendAsync();
        await cluster.StartWorkerAsync();

        await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has its queued run parked");
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.ProcessOrder));

        await order.ResumeAsync();
        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));
    }

    [Fact]
    public async Task Rule24_a_callback_suspended_before_it_fires_parks_its_run_with_the_injected_result()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, confirm, _) = await SignOrderAsync(cluster.Client);
        var id = NewOrderId();
        await confirm.SuspendAsync();

        await order.RunAsync(new OrderMessage(id, 3m));

        await WaitForInfoAsync(order, i => i.Status == SignatureStatus.Done, "is done");
        await WaitForInfoAsync(confirm, i => i.ParkedRuns == 1, "has the callback run parked");
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.SendConfirmation));

        await confirm.ResumeAsync();

        var confirmation = (ConfirmationMessage)(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1))[0].Message!;
        Assert.Equal(new OrderReceipt(id, 3m), confirmation.Receipt); // the return field travelled with the parked run
        Assert.Equal("lifecycle", confirmation.Template);
    }

    [Fact]
    public async Task Resume_without_a_parked_run_returns_to_the_last_status_and_resuming_again_changes_nothing()
    {
        var (cluster, _) = await StartAsync(workers: 0);
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);

        await order.SuspendAsync();
        await order.ResumeAsync();
        Assert.Equal((SignatureStatus.Pending, SignatureStatus.Suspended, 0), await order.StateAsync());

        await order.ResumeAsync(); // not paused: nothing to do, no error
        Assert.Equal((SignatureStatus.Pending, SignatureStatus.Suspended, 0), await order.StateAsync());
    }

    [Fact]
    public async Task Resume_twice_dispatches_the_parked_run_once()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        await order.SuspendAsync();
        await order.RunAsync(new OrderMessage(NewOrderId(), 1m));
        await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has its run parked");

        await Task.WhenAll(order.ResumeAsync(), order.ResumeAsync());

        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));
        Assert.Single(shop.Recorder.Of(Shop.SendConfirmation));
    }

    // ---- contract §5: a body that finishes while suspended keeps its outcome ----

    [Fact]
    public async Task Suspend_while_running_lets_the_body_finish_and_resume_applies_its_result_once()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, confirm, _) = await SignOrderAsync(cluster.Client);
        var id = await RunAtGateAsync(order, shop, 4m);

        await order.SuspendAsync();
        shop.Gates.Open(id); // a suspended body goes on

        await WaitForInfoAsync(order, i => i.HasSavedOutcome, "keeps the outcome of its body");
        await DrainAsync(cluster, shop);
        Assert.Equal(0, shop.Gates.Cancelled(id));
        Assert.Empty(shop.Recorder.Of(Shop.SendConfirmation)); // rule 26: no callback while suspended
        Assert.Equal(SignatureStatus.Suspended, await order.GetStatusAsync());

        await order.ResumeAsync();

        var confirmation = (ConfirmationMessage)(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1))[0].Message!;
        Assert.Equal(new OrderReceipt(id, 4m), confirmation.Receipt);
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder)); // applied, not run again
        Assert.Equal((SignatureStatus.Done, SignatureStatus.Suspended, 1), await order.StateAsync());
        Assert.Equal(SignatureStatus.Done, await confirm.GetStatusAsync());
    }

    [Fact]
    public async Task Suspend_while_running_a_body_that_fails_for_good_keeps_the_failure_and_resume_fires_the_error_callbacks_once()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, notify) = await SignOrderAsync(cluster.Client);
        var id = await RunAtGateAsync(order, shop, 4m);

        await order.SuspendAsync();
        shop.Gates.Open(id, new NonRetryableException("the card is stolen"));

        await WaitForInfoAsync(order, i => i.HasSavedOutcome, "keeps the failure of its body");
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.NotifyFailure));

        await order.ResumeAsync();

        var failed = (await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1))[0];
        Assert.Equal(id, ((OrderFailedMessage)failed.Message!).OrderId);
        Assert.Contains("the card is stolen", failed.Failure!.Error);
        var info = await order.GetInfoAsync();
        Assert.Equal(SignatureStatus.Failed, info.Status);
        Assert.Contains("the card is stolen", info.Failure!.Error);
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.NotifyFailure));
        Assert.Equal(SignatureStatus.Done, await notify.GetStatusAsync());
    }

    // ---- rule 26: a suspended task is not retried ----

    [Fact]
    public async Task Rule26_a_body_that_fails_while_suspended_is_not_retried_until_resume()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var id = await RunAtGateAsync(order, shop, 2m);

        await order.SuspendAsync();
        shop.Gates.Open(id, new TimeoutException("gateway timeout")); // retryable

        await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has its retry parked");
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));
        Assert.Equal((SignatureStatus.Suspended, SignatureStatus.Active, 1), await order.StateAsync());

        shop.Gates.Open(id);
        await order.ResumeAsync();

        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
        Assert.Equal([1, 2], shop.Recorder.Of(Shop.ProcessOrder).Select(r => r.Attempt));
        Assert.Equal(SignatureStatus.Done, await order.GetStatusAsync());
    }

    [Fact]
    public async Task Rule26_suspend_while_a_retry_waits_for_its_delay_parks_the_retry()
    {
        var (cluster, shop) = await StartAsync(worker: o => o.RetryDelay = TimeSpan.FromMilliseconds(500));
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var id = await RunAtGateAsync(order, shop, 2m);
        shop.Gates.Open(id, new TimeoutException("gateway timeout"));
        await Recorder.WaitUntilAsync(async () => cluster.InFlight == 0 && (await order.GetInfoAsync()).Attempts == 1, "the first attempt waits for its retry");

        await order.SuspendAsync();

        await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has the due retry parked");
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));

        shop.Gates.Open(id);
        await order.ResumeAsync();
        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
        Assert.Equal(2, shop.Recorder.Of(Shop.ProcessOrder).Count);
    }

    // ---- rule 25: interrupt and cancel stop a running body ----

    [Fact]
    public async Task Rule25_interrupt_cancels_the_running_body_and_parks_its_run_without_counting_an_attempt()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, confirm, notify) = await SignOrderAsync(cluster.Client);
        var id = await RunAtGateAsync(order, shop, 5m);

        await order.InterruptAsync();

        await shop.Gates.WaitCancelledAsync(id);
        await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has the interrupted run parked");
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.SendConfirmation));
        Assert.Empty(shop.Recorder.Of(Shop.NotifyFailure));
        Assert.Equal((SignatureStatus.Interrupted, SignatureStatus.Active, 0), await order.StateAsync());

        shop.Gates.Open(id);
        await order.ResumeAsync();

        var confirmation = (ConfirmationMessage)(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1))[0].Message!;
        Assert.Equal(new OrderReceipt(id, 5m), confirmation.Receipt);
        Assert.Equal([1, 1], shop.Recorder.Of(Shop.ProcessOrder).Select(r => r.Attempt)); // the interrupted run was no attempt
        Assert.Equal(SignatureStatus.Done, await order.GetStatusAsync());
        Assert.Equal(SignatureStatus.Pending, await notify.GetStatusAsync());
        Assert.Equal(SignatureStatus.Done, await confirm.GetStatusAsync());
    }

    [Fact]
    public async Task Rule25_interrupt_on_another_worker_stops_the_body_where_it_runs()
    {
        var (cluster, shop) = await StartAsync(workers: 2);
        await using var _ = cluster;
        var orders = new List<(TaskSignature Order, string Id)>();
        for (var i = 0; i < 4; i++)
        {
            var (order, _, _) = await SignOrderAsync(cluster.Client);
            var id = $"gate-{Guid.NewGuid():N}";
            await order.RunAsync(new OrderMessage(id, i));
            orders.Add((order, id));
        }
        foreach (var (_, id) in orders) await shop.Gates.WaitEnteredAsync(id);

        foreach (var (order, _) in orders) await order.InterruptAsync();

        foreach (var (order, id) in orders)
        {
            await shop.Gates.WaitCancelledAsync(id);
            await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has the interrupted run parked");
        }
    }

    [Fact]
    public async Task Rule25_cancel_stops_a_running_body_for_good_and_fires_no_callback()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, confirm, notify) = await SignOrderAsync(cluster.Client);
        var id = await RunAtGateAsync(order, shop, 5m);

        await order.CancelAsync();

        await shop.Gates.WaitCancelledAsync(id);
        await Recorder.WaitUntilAsync(() => Task.FromResult(cluster.InFlight == 0), "the cancelled run ends");
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder)); // not retried
        Assert.Empty(shop.Recorder.Of(Shop.SendConfirmation));
        Assert.Empty(shop.Recorder.Of(Shop.NotifyFailure));
        var info = await order.GetInfoAsync();
        Assert.Equal(SignatureStatus.Canceled, info.Status);
        Assert.Equal(0, info.ParkedRuns);
        Assert.NotNull(info.FinishedAt);
        Assert.Equal(SignatureStatus.Pending, await confirm.GetStatusAsync());
        Assert.Equal(SignatureStatus.Pending, await notify.GetStatusAsync());
    }

    [Fact]
    public async Task Cancel_drops_a_queued_run()
    {
        var (cluster, shop) = await StartAsync(workers: 0);
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        await order.RunAsync(new OrderMessage(NewOrderId(), 1m));

        await order.CancelAsync();
        await cluster.StartWorkerAsync();

        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.ProcessOrder));
        Assert.Equal(SignatureStatus.Canceled, await order.GetStatusAsync());
    }

    [Fact]
    public async Task Cancel_drops_a_parked_run_and_cancel_then_resume_throws_and_stays_canceled()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        await order.SuspendAsync();
        await order.RunAsync(new OrderMessage(NewOrderId(), 1m));
        await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has its run parked");

        await order.CancelAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => order.ResumeAsync());
        Assert.Contains(order.Id, error.Message);
        Assert.Contains("Canceled", error.Message);
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.ProcessOrder));
        var info = await order.GetInfoAsync();
        Assert.Equal(SignatureStatus.Canceled, info.Status);
        Assert.Equal(0, info.ParkedRuns);
    }

    public enum FinishedBy
    {
        Done,
        Failed,
        Canceled,
    }

    [Theory]
    [InlineData(FinishedBy.Done)]
    [InlineData(FinishedBy.Failed)]
    [InlineData(FinishedBy.Canceled)]
    public async Task Every_lifecycle_operation_on_a_finished_signature_throws_naming_it_and_its_status(FinishedBy finishedBy)
    {
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var expected = finishedBy switch
        {
            FinishedBy.Done => SignatureStatus.Done,
            FinishedBy.Failed => SignatureStatus.Failed,
            _ => SignatureStatus.Canceled,
        };
        if (finishedBy == FinishedBy.Canceled) await order.CancelAsync();
        else await order.RunAsync(new OrderMessage(finishedBy == FinishedBy.Done ? NewOrderId() : NewOrderId("fatal"), 1m));
        await WaitForInfoAsync(order, i => i.Status == expected, $"is {expected}");

        foreach (var operation in new Func<Task>[] { () => order.SuspendAsync(), () => order.InterruptAsync(), () => order.ResumeAsync(), () => order.CancelAsync() })
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(operation);
            Assert.Contains(order.Id, error.Message);
            Assert.Contains(expected.ToString(), error.Message);
        }
        Assert.Equal(expected, await order.GetStatusAsync());
    }

    [Fact]
    public async Task Lifecycle_on_a_signature_that_no_longer_exists_throws_SignatureNotFoundException()
    {
        var (cluster, _) = await StartAsync(configure: o => o.DoneTtl = TimeSpan.Zero, workers: 0);
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder);
        await order.CancelAsync(); // a done TTL of zero deletes it at once

        var error = await Assert.ThrowsAsync<SignatureNotFoundException>(() => order.SuspendAsync());
        Assert.Equal(order.Id, error.SignatureId);
        Assert.Null(await cluster.Client.GetSignatureInfoAsync(order.Id));
    }

    // ---- rule 19: parked runs keep their signature ----

    [Fact]
    public async Task Rule19_a_signature_with_a_parked_run_does_not_expire()
    {
        var (cluster, shop) = await StartAsync(configure: o => o.ActiveTtl = TimeSpan.FromSeconds(2));
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        await order.SuspendAsync();
        await order.RunAsync(new OrderMessage(NewOrderId(), 1m));
        await WaitForInfoAsync(order, i => i.ParkedRuns == 1, "has its run parked");
        var control = await cluster.Client.AsignAsync(Shop.Note); // same lifetime, nothing parked

        await Recorder.WaitUntilAsync(async () => await cluster.Client.GetSignatureInfoAsync(control.Id) is null, "the control signature expires");

        Assert.Equal(1, (await order.GetInfoAsync()).ParkedRuns);
        await order.ResumeAsync();
        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
    }
}
