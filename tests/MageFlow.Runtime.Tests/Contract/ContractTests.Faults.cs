using MageFlow.Backends;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>Rules 18–23 (faults) and contract §8 (limits), on every backend.</summary>
public abstract partial class ContractTests
{
    [Fact]
    public async Task Rule18_entries_waiting_to_run_are_kept_alive_so_a_run_nobody_crashed_runs_once()
    {
        // One run at a time, each longer than the visibility timeout: entries read from two queues wait their turn.
        var (cluster, shop) = await StartAsync(new Shop { SleepPerRun = TimeSpan.FromMilliseconds(450) },
            worker: o => { o.Concurrency = 1; o.VisibilityTimeout = TimeSpan.FromMilliseconds(300); });
        await using var _ = cluster;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            foreach (var task in new[] { Shop.ProcessOrder, Shop.Touch })
            {
                var id = $"sleep-{task}-{i}";
                ids.Add(id);
                await (await cluster.Client.AsignAsync(task)).RunAsync(new OrderMessage(id, 1m));
            }
        }

        await Recorder.WaitUntilAsync(() => Task.FromResult(shop.Recorder.All.Count(r => r.Task is Shop.ProcessOrder or Shop.Touch) >= ids.Count), "every run started");
        await DrainAsync(cluster, shop);
        var runs = shop.Recorder.All.Where(r => r.Task is Shop.ProcessOrder or Shop.Touch).Select(r => ((OrderMessage)r.Message!).OrderId).ToArray();
        Assert.Equal(ids.Order(), runs.Order());
    }

    [Fact]
    public async Task A_worker_runs_any_number_of_runs_in_no_more_run_loops_than_it_has_slots()
    {
        // Three slots, forty tasks and their callbacks queued at once: every slot busy, and on Redis most callbacks
        // taken by the completion that queued them, in the slot its run frees.
        var (cluster, shop) = await StartAsync(worker: o => o.Concurrency = 3);
        await using var _ = cluster;
        const int orders = 40;
        var signed = new List<TaskSignature>();
        for (var i = 0; i < orders; i++)
        {
            var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation, new { template = "loops" });
            signed.Add(await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]));
        }

        await Task.WhenAll(signed.Select(order => order.RunAsync(new OrderMessage(NewOrderId(), 1m))));

        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, orders);
        var worker = cluster.Hosts[1].Services.GetRequiredService<Execution.MageWorker>();
        // A run loop goes idle before it frees its slot, so whoever takes the slot finds it and makes no new one.
        Assert.InRange(worker.RunLoopCount, 1, 3);
    }

    [Fact]
    public async Task Rule19_a_run_longer_than_the_active_ttl_keeps_its_signature_and_callbacks()
    {
        // The TTL leaves room for a busy machine between signing and the start; the run lasts well past it.
        var (cluster, shop) = await StartAsync(new Shop { SleepPerRun = TimeSpan.FromMilliseconds(4500) },
            configure: o => o.ActiveTtl = TimeSpan.FromMilliseconds(1500));
        await using var _ = cluster;
        var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation, new { template = "late" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]);

        await order.RunAsync(new OrderMessage("sleep-long", 3m));

        var received = (ConfirmationMessage)(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1))[0].Message!;
        Assert.Equal(new ConfirmationMessage(new OrderReceipt("sleep-long", 3m), "late"), received);
    }

    [Fact]
    public async Task Rule19_a_retry_backoff_longer_than_the_active_ttl_keeps_its_signature_and_callbacks()
    {
        var (cluster, shop) = await StartAsync(configure: o => o.ActiveTtl = TimeSpan.FromMilliseconds(1500),
            worker: o => o.RetryDelay = TimeSpan.FromMilliseconds(4000));
        await using var _ = cluster;
        var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation, new { template = "after-retry" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]);

        await order.RunAsync(new OrderMessage("flaky-ttl", 2m));

        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
        Assert.Equal([1, 2], shop.Recorder.Of(Shop.ProcessOrder).Select(r => r.Attempt));
    }

    [Fact]
    public async Task Rule20_a_result_that_cannot_be_serialized_fails_at_once_without_running_the_body_again()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var notify = await cluster.Client.AsignAsync(Shop.Note, new { text = "nan" });
        var measure = await cluster.Client.AsignAsync(Shop.Measure, errorCallbacks: [notify]);

        await measure.RunAsync(new OrderMessage("nan-1", -1m));

        var failure = (await shop.Recorder.WaitForAsync(Shop.Note, 1))[0].Failure!;
        Assert.Equal(TaskFailureKind.InvalidResult, failure.Kind);
        Assert.Contains("measure", failure.Error);
        Assert.Contains("System.Double", failure.Error);
        Assert.Single(shop.Recorder.Of(Shop.Measure)); // Retries = 2, yet the body ran once
        Assert.Equal(SignatureStatus.Failed, await measure.GetStatusAsync());
    }

    [Fact]
    public async Task Rule20_a_run_taken_over_more_than_MaxStalls_times_fails_as_stalled_without_running()
    {
        var shop = new Shop();
        await using var cluster = await TestCluster.StartAsync(UseBackend(), shop.Register, workers: 0);
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "pager" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, errorCallbacks: [notify]);
        await order.RunAsync(new OrderMessage("poison-1", 9m));

        // Workers that start the run and die: each one starts the same entry and never finishes it.
        var backend = cluster.Backend;
        await backend.PrepareQueuesAsync([Shop.ProcessOrder], default);
        var entry = Assert.IsType<Delivery>(Assert.Single(await backend.ReadAsync([Shop.ProcessOrder], "dead-0", 10, TimeSpan.Zero, default)));
        for (var stall = 0; stall < 2; stall++)
        {
            var started = await backend.StartAsync(entry, TimeSpan.FromHours(1), default);
            Assert.Equal(stall, started.Run!.Stalls);
            var taken = await backend.ReclaimAsync([Shop.ProcessOrder], $"dead-{stall + 1}", TimeSpan.Zero, 10, default);
            entry = Assert.IsType<Delivery>(Assert.Single(taken));
        }
        Assert.Equal(2, (await backend.StartAsync(entry, TimeSpan.FromHours(1), default)).Run!.Stalls); // the second take-over, also dying

        // The worker's own take-over is the third: more than MaxStalls = 2.
        await cluster.StartWorkerAsync(o => { o.MaxStalls = 2; o.VisibilityTimeout = TimeSpan.FromMilliseconds(200); });

        var failed = (await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1))[0];
        Assert.Equal(TaskFailureKind.Stalled, failed.Failure!.Kind);
        Assert.Contains("stalled 3 times", failed.Failure.Error);
        Assert.Equal(new OrderFailedMessage("poison-1", 9m, null, "pager"), failed.Message);
        Assert.Empty(shop.Recorder.Of(Shop.ProcessOrder)); // poison is not run again
        Assert.Equal(SignatureStatus.Failed, await order.GetStatusAsync());
    }

    [Fact]
    public async Task Rule20_payloads_over_MaxPayloadBytes_are_refused_before_anything_is_stored()
    {
        var (cluster, shop) = await StartAsync(configure: o => o.MaxPayloadBytes = 4096);
        await using var _ = cluster;
        var big = new string('x', 5000);

        var atSigning = await Assert.ThrowsAsync<MagePayloadTooLargeException>(() => cluster.Client.AsignAsync(Shop.ProcessOrder, new { priority = big }));
        Assert.Equal((Shop.ProcessOrder, "kwargs", 4096L), (atSigning.TaskName, atSigning.Payload, atSigning.LimitBytes));
        Assert.True(atSigning.SizeBytes > 5000);

        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder);
        var atUpdate = await Assert.ThrowsAsync<MagePayloadTooLargeException>(() => order.Kwargs.UpdateAsync(new { priority = big }));
        Assert.Equal("kwargs", atUpdate.Payload);
        Assert.Empty((await order.Kwargs.GetAsync()).EnumerateObject());
        var atDispatch = await Assert.ThrowsAsync<MagePayloadTooLargeException>(() => order.RunAsync(new OrderMessage(big, 1m)));
        Assert.Contains("MaxPayloadBytes", atDispatch.Message);
        await Assert.ThrowsAsync<MagePayloadTooLargeException>(() => order.RunAsync(new OrderMessage("small", 1m), kwargs: new { priority = big }));

        // Nothing was queued: the next run of the same signature is the first the worker sees.
        await order.RunAsync(new OrderMessage("fits", 1m));
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);
        await DrainAsync(cluster, shop);
        Assert.Equal(["fits"], shop.Recorder.Of(Shop.ProcessOrder).Select(r => ((OrderMessage)r.Message!).OrderId));
    }

    [Fact]
    public async Task Rule20_a_result_over_MaxPayloadBytes_fails_the_run_at_once_and_fires_error_callbacks()
    {
        var (cluster, shop) = await StartAsync(configure: o => o.MaxPayloadBytes = 2048);
        await using var _ = cluster;
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "mail" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, errorCallbacks: [notify]);

        // A "big-" order's receipt repeats its id three times: the message fits the limit, the result does not.
        await order.RunAsync(new OrderMessage("big-" + new string('r', 1000), 1m));

        var failure = (await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1))[0].Failure!;
        Assert.Equal(TaskFailureKind.InvalidResult, failure.Kind);
        Assert.Contains("MaxPayloadBytes", failure.Error);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));
    }

    [Fact]
    public async Task Rule22_the_same_callback_passed_twice_fires_once()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation, new { template = "twice" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm, confirm]);
        Assert.Equal([confirm.Id], order.SuccessCallbackIds);

        await order.RunAsync(new OrderMessage("twice-1", 1m));

        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.SendConfirmation));
    }

    [Fact]
    public async Task Rule22_callbacks_below_a_released_callback_are_released_too()
    {
        var (cluster, shop) = await StartAsync(configure: o => o.DoneTtl = TimeSpan.Zero);
        await using var _ = cluster;
        var deepest = await cluster.Client.AsignAsync(Shop.Note, new { text = "deepest" });
        var onFailure = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "sms" }, successCallbacks: [deepest]);
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, errorCallbacks: [onFailure]);

        await order.RunAsync(new OrderMessage("fine-1", 1m));

        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);
        await DrainAsync(cluster, shop);
        Assert.Null(await cluster.Client.GetSignatureAsync(onFailure.Id));
        Assert.Null(await cluster.Client.GetSignatureAsync(deepest.Id)); // two levels down: can never fire now
    }

    [Theory]
    [InlineData("")]
    [InlineData("a,b")]
    [InlineData("queue:name")]
    [InlineData("line\nbreak")]
    [InlineData("tab\there")]
    public async Task Rule23_a_name_that_can_never_be_a_task_is_refused_at_signing(string name)
    {
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;

        var byName = await Assert.ThrowsAsync<ArgumentException>(() => cluster.Client.AsignAsync(name));
        var typed = await Assert.ThrowsAsync<ArgumentException>(() => cluster.Client.AsignAsync<OrderMessage>(name));
        Assert.Contains("cannot be a task name", byName.Message);
        Assert.Contains("cannot be a task name", typed.Message);
        Assert.Throws<ArgumentException>(() => TaskDescriptor.Create<OrderMessage>(name, (_, _, _) => ValueTask.CompletedTask));
    }

    [Fact]
    public void Rule22_retry_delays_double_and_never_overflow()
    {
        var first = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromMinutes(5);
        Assert.Equal(TimeSpan.FromSeconds(1), Execution.RunExecutor.RetryDelay(first, 1, max));
        Assert.Equal(TimeSpan.FromSeconds(4), Execution.RunExecutor.RetryDelay(first, 3, max));
        Assert.Equal(max, Execution.RunExecutor.RetryDelay(first, 40, max));
        Assert.Equal(max, Execution.RunExecutor.RetryDelay(first, int.MaxValue, max));
        Assert.Equal(max, Execution.RunExecutor.RetryDelay(TimeSpan.MaxValue, 2, max));
    }
}
