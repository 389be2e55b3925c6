using System.Text.Json;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>Contract §5 run-and-wait and the read side, on every backend.</summary>
public abstract partial class ContractTests
{
    private static int WaitersOf(IMageFlow mage) => ((MageFlowClient)mage).Waiters.Count;

    [Fact]
    public async Task RunAndWait_completes_with_the_result()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var id = NewOrderId();

        var result = await order.RunAndWaitAsync(new OrderMessage(id, 12.5m));

        Assert.Equal(id, result.GetProperty("orderId").GetString());
        Assert.Equal(12.5m, result.GetProperty("charged").GetDecimal());
        Assert.Equal(SignatureStatus.Done, await order.GetStatusAsync());
        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1); // callbacks fire as for any run
        Assert.Equal(0, WaitersOf(cluster.Client));
    }

    [Fact]
    public async Task RunAndWait_of_a_task_that_returns_nothing_completes_with_null()
    {
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;
        var touch = await cluster.Client.AsignAsync(Shop.Touch);

        var result = await touch.RunAndWaitAsync(new OrderMessage(NewOrderId(), 1m));

        Assert.Equal(JsonValueKind.Null, result.ValueKind);
    }

    [Fact]
    public async Task RunAndWait_throws_MageTaskFailedException_on_final_failure()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var id = NewOrderId("fatal");

        var error = await Assert.ThrowsAsync<MageTaskFailedException>(() => order.RunAndWaitAsync(new OrderMessage(id, 1m)));

        Assert.Equal(order.Id, error.SignatureId);
        Assert.Equal(Shop.ProcessOrder, error.TaskName);
        Assert.Equal(TaskFailureKind.Error, error.Kind);
        Assert.Contains("NonRetryableException", error.Error);
        Assert.Contains($"order {id} is invalid", error.Message);
        await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1);
    }

    [Fact]
    public async Task RunAndWait_throws_OperationCanceledException_when_the_signature_is_canceled()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var id = $"gate-{Guid.NewGuid():N}";
        var waiting = order.RunAndWaitAsync(new OrderMessage(id, 1m));
        await shop.Gates.WaitEnteredAsync(id);

        await order.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Contains(order.Id, error.Message);
    }

    [Fact]
    public async Task RunAndWait_past_its_timeout_throws_TimeoutException_and_the_run_goes_on()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var id = $"gate-{Guid.NewGuid():N}";

        var error = await Assert.ThrowsAsync<TimeoutException>(() => order.RunAndWaitAsync(new OrderMessage(id, 1m), TimeSpan.FromMilliseconds(300)));

        Assert.Contains(order.Id, error.Message);
        Assert.Equal(0, WaitersOf(cluster.Client));
        await shop.Gates.WaitEnteredAsync(id);
        shop.Gates.Open(id);
        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
        Assert.Equal(SignatureStatus.Done, await order.GetStatusAsync());
    }

    [Fact]
    public async Task RunAndWait_stops_waiting_when_its_token_fires_and_the_run_goes_on()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var id = $"gate-{Guid.NewGuid():N}";
        using var stopWaiting = new CancellationTokenSource();
        var waiting = order.RunAndWaitAsync(new OrderMessage(id, 1m), cancellationToken: stopWaiting.Token);
        await shop.Gates.WaitEnteredAsync(id);

        await stopWaiting.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, WaitersOf(cluster.Client));
        shop.Gates.Open(id);
        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
    }

    [Fact]
    public async Task RunAndWait_on_a_finished_signature_throws_and_queues_nothing()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        await order.RunAndWaitAsync(new OrderMessage(NewOrderId(), 1m));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => order.RunAndWaitAsync(new OrderMessage(NewOrderId(), 1m)));

        Assert.Contains(order.Id, error.Message);
        Assert.Contains("Done", error.Message);
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));
    }

    [Fact]
    public async Task RunAndWait_waits_through_a_suspension_and_completes_when_resume_applies_the_result()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var (order, _, _) = await SignOrderAsync(cluster.Client);
        var id = $"gate-{Guid.NewGuid():N}";
        var waiting = order.RunAndWaitAsync(new OrderMessage(id, 9m));
        await shop.Gates.WaitEnteredAsync(id);
        await order.SuspendAsync();
        shop.Gates.Open(id);
        await WaitForInfoAsync(order, i => i.HasSavedOutcome, "keeps the outcome of its body");
        await DrainAsync(cluster, shop);
        Assert.False(waiting.IsCompleted);

        await order.ResumeAsync();

        Assert.Equal(id, (await waiting).GetProperty("orderId").GetString());
    }

    [Fact]
    public async Task RunAndWait_serves_many_waiters_at_once_each_with_its_own_result()
    {
        var (cluster, _) = await StartAsync(workers: 2);
        await using var _ = cluster;
        var orders = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => cluster.Client.AsignAsync(Shop.ProcessOrder)));

        var results = await Task.WhenAll(orders.Select((order, i) => order.RunAndWaitAsync(new OrderMessage($"many-{i}", i))));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"many-{i}"), results.Select(r => r.GetProperty("orderId").GetString()));
        Assert.Equal(0, WaitersOf(cluster.Client));
    }

    [Fact]
    public async Task RunAndWait_gets_the_result_even_when_finished_signatures_are_deleted_at_once()
    {
        var (cluster, _) = await StartAsync(configure: o => o.DoneTtl = TimeSpan.Zero);
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder);

        var result = await order.RunAndWaitAsync(new OrderMessage("ttl-zero", 2m));

        Assert.Equal("ttl-zero", result.GetProperty("orderId").GetString());
    }

    // ---- the read side ----

    [Fact]
    public async Task Read_side_reports_status_kwargs_callbacks_attempts_timestamps_and_failure()
    {
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;
        var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation);
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "sms" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, new { priority = "high", address = new { zip = "1000" } }, [confirm], [notify]);
        var signedAt = DateTimeOffset.UtcNow;

        var pending = (await cluster.Client.GetSignatureInfoAsync(order.Id))!;
        Assert.Equal((SignatureStatus.Pending, 0), (pending.Status, pending.Attempts));
        Assert.Null(pending.StartedAt);
        Assert.Null(pending.FinishedAt);
        Assert.Null(pending.Failure);

        await Assert.ThrowsAsync<MageTaskFailedException>(() => order.RunAndWaitAsync(new OrderMessage(NewOrderId("fatal"), 1m)));

        var info = (await cluster.Client.GetSignatureInfoAsync(order.Id))!;
        Assert.Equal(order.Id, info.Id);
        Assert.Equal(Shop.ProcessOrder, info.TaskName);
        Assert.Equal((SignatureStatus.Failed, SignatureStatus.Active, 1), (info.Status, info.LastStatus, info.Attempts));
        Assert.Equal("high", info.Kwargs.GetProperty("priority").GetString());
        Assert.Equal("1000", info.Kwargs.GetProperty("address").GetProperty("zip").GetString());
        Assert.Equal([confirm.Id], info.SuccessCallbackIds);
        Assert.Equal([notify.Id], info.ErrorCallbackIds);
        Assert.Equal("mageflow_results", info.ReturnField);
        Assert.True(info.CreatedAt <= info.StartedAt && info.StartedAt <= info.FinishedAt, $"created {info.CreatedAt:O}, started {info.StartedAt:O}, finished {info.FinishedAt:O}");
        Assert.True(Math.Abs((info.CreatedAt - signedAt).TotalMinutes) < 1);
        Assert.Equal(TaskFailureKind.Error, info.Failure!.Kind);
        Assert.Contains("is invalid", info.Failure.Error);
        Assert.True(info.IsFinished);
        Assert.False(info.HasSavedOutcome);
    }

    [Fact]
    public async Task Signatures_can_be_listed_by_status_and_task()
    {
        var (cluster, _) = await StartAsync(workers: 0);
        await using var _ = cluster;
        var orders = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => cluster.Client.AsignAsync(Shop.ProcessOrder)));
        var audits = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => cluster.Client.AsignAsync(Shop.Audit)));
        await orders[0].SuspendAsync();
        await audits[0].CancelAsync();

        async Task<string[]> ListAsync(SignatureQuery? query) =>
            (await cluster.Client.ListSignaturesAsync(query).ToArrayAsync()).Select(i => i.Id).Order().ToArray();

        Assert.Equal(orders.Concat(audits).Select(s => s.Id).Order(), await ListAsync(null));
        Assert.Equal(orders.Select(s => s.Id).Order(), await ListAsync(new SignatureQuery { TaskName = Shop.ProcessOrder }));
        Assert.Equal([orders[0].Id], await ListAsync(new SignatureQuery { Status = SignatureStatus.Suspended }));
        Assert.Equal(new[] { orders[1].Id, orders[2].Id }.Order(), await ListAsync(new SignatureQuery { Status = SignatureStatus.Pending, TaskName = Shop.ProcessOrder }));
        Assert.Equal([audits[0].Id], await ListAsync(new SignatureQuery { Status = SignatureStatus.Canceled, TaskName = Shop.Audit }));
        Assert.Equal(2, (await ListAsync(new SignatureQuery { Limit = 2 })).Length);
        Assert.Empty(await ListAsync(new SignatureQuery { TaskName = "no-such-task" }));
    }
}
