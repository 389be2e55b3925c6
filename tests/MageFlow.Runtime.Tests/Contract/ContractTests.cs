using MageFlow.Backends;
using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>
/// The contract suite: every rule of docs/semantics.md, run unchanged against each backend
/// (<see cref="InMemoryContractTests"/>, <see cref="RedisContractTests"/>). Rule numbers are in the test names.
/// </summary>
public abstract partial class ContractTests
{
    /// <summary>Points a client at this backend; every call within one test must reach the same storage.</summary>
    protected abstract Action<MageFlowOptions> UseBackend();

    private async Task<(TestCluster Cluster, Shop Shop)> StartAsync(
        Shop? shop = null,
        Action<MageFlowOptions>? configure = null,
        int workers = 1,
        Action<MageWorkerOptions>? worker = null)
    {
        shop ??= new Shop();
        var cluster = await TestCluster.StartAsync(UseBackend(), o =>
        {
            shop.Register(o);
            configure?.Invoke(o);
        }, workers, worker);
        return (cluster, shop);
    }

    private static string NewOrderId(string prefix = "o") => $"{prefix}-{Guid.NewGuid():N}";

    // ---- rules 1-5: messages and kwargs ----

    [Fact]
    public async Task Rule1_signature_stores_task_kwargs_callbacks_status_and_return_field()
    {
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var confirm = await mage.AsignAsync(Shop.SendConfirmation, new { template = "welcome" });
        var notify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await mage.AsignAsync(Shop.ProcessOrder, new { priority = "low" }, [confirm], [notify]);

        var stored = await mage.GetSignatureAsync(order.Id);
        Assert.NotNull(stored);
        Assert.Equal(Shop.ProcessOrder, stored.TaskName);
        Assert.Equal([confirm.Id], stored.SuccessCallbackIds);
        Assert.Equal([notify.Id], stored.ErrorCallbackIds);
        Assert.Equal("mageflow_results", stored.ReturnField);
        Assert.Equal("receipt", (await mage.GetSignatureAsync(confirm.Id))!.ReturnField);
        Assert.Equal((SignatureStatus.Pending, SignatureStatus.Pending, 0), await stored.StateAsync());
        var kwargs = await stored.Kwargs.GetAsync();
        Assert.Equal("low", kwargs.GetProperty("priority").GetString());
    }

    [Fact]
    public async Task Rule2_call_time_kwargs_beat_signature_kwargs_which_beat_the_message()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, new { amount = 5m, priority = "kwarg" });
        var id = NewOrderId();

        await order.RunAsync(new OrderMessage(id, 1m, Priority: "message"), kwargs: new { priority = "call-time" });

        var received = (OrderMessage)(await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1))[0].Message!;
        Assert.Equal(id, received.OrderId);              // only in the message: kept
        Assert.Equal(5m, received.Amount);               // signature kwargs > message
        Assert.Equal("call-time", received.Priority);    // call-time kwargs > signature kwargs
    }

    [Fact]
    public async Task Rule2_nested_objects_deep_merge_and_bound_scalars_replace()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, new { address = new { zip = "2000", street = "Main St" } });

        await order.RunAsync(new OrderMessage(NewOrderId(), 1m, Address: new Address(City: "Lyon", Zip: "1000")));

        var received = (OrderMessage)(await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1))[0].Message!;
        Assert.Equal(new Address(City: "Lyon", Zip: "2000", Street: "Main St"), received.Address);
    }

    [Fact]
    public async Task Rule3_wire_format_reads_member_names_case_insensitively()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, new Dictionary<string, object> { ["AMOUNT"] = 7m, ["Priority"] = "p" });

        await order.RunAsync(new { orderId = "case-1", amount = 1m });

        var received = (OrderMessage)(await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1))[0].Message!;
        Assert.Equal(new OrderMessage("case-1", 7m, "p"), received);
    }

    [Fact]
    public async Task Rule4_return_value_goes_into_the_ReturnValue_member()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation, new { template = "welcome" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]);
        var id = NewOrderId();

        await order.RunAsync(new OrderMessage(id, 12.5m));

        var received = (ConfirmationMessage)(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1))[0].Message!;
        Assert.Equal(new ConfirmationMessage(new OrderReceipt(id, 12.5m), "welcome"), received);
    }

    [Fact]
    public async Task Rule4_without_ReturnValue_member_the_result_goes_into_mageflow_results()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var audit = await cluster.Client.AsignAsync(Shop.Audit, new { source = "checkout" });
        Assert.Equal("mageflow_results", audit.ReturnField);
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);
        var id = NewOrderId();

        await order.RunAsync(new OrderMessage(id, 3m));

        var received = (AuditMessage)(await shop.Recorder.WaitForAsync(Shop.Audit, 1))[0].Message!;
        Assert.Equal(new AuditMessage(new OrderReceipt(id, 3m), "checkout"), received);
    }

    [Fact]
    public async Task Rule4_return_field_is_fixed_when_the_callback_is_signed_with_an_explicit_message_type()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        // By name with the message type named: its [ReturnValue] member decides the field.
        var confirm = await cluster.Client.AsignAsync<ConfirmationMessage>(Shop.SendConfirmation, new { template = "t" });
        Assert.Equal("receipt", confirm.ReturnField);
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]);

        await order.RunAsync(new OrderMessage("explicit-1", 1m));

        var received = (ConfirmationMessage)(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1))[0].Message!;
        Assert.Equal(new OrderReceipt("explicit-1", 1m), received.Receipt);
    }

    [Fact]
    public async Task Rule5_kwargs_update_replaces_named_top_level_keys_shallowly_and_at_once()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, new { priority = "low", address = new { city = "Paris", zip = "75001" } });

        await order.Kwargs.UpdateAsync(new { priority = "high", address = new { zip = "69001" } });

        var kwargs = await order.Kwargs.GetAsync();
        Assert.Equal("high", kwargs.GetProperty("priority").GetString());
        Assert.Equal("""{"zip":"69001"}""", kwargs.GetProperty("address").GetRawText()); // shallow: city is gone
        await order.RunAsync(new OrderMessage(NewOrderId(), 1m, Address: new Address(Street: "Rue 1")));
        var received = (OrderMessage)(await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1))[0].Message!;
        Assert.Equal("high", received.Priority);
        Assert.Equal(new Address(Zip: "69001", Street: "Rue 1"), received.Address);
    }

    [Fact]
    public async Task Rule5_kwargs_update_of_a_missing_signature_fails_clearly()
    {
        var (cluster, _) = await StartAsync(configure: o => o.DoneTtl = TimeSpan.Zero);
        await using var _ = cluster;
        var note = await cluster.Client.AsignAsync(Shop.Note);
        await note.RunAsync(new NoteMessage(Text: "x"));
        await Recorder.WaitUntilAsync(async () => await cluster.Client.GetSignatureAsync(note.Id) is null, "the finished note is deleted");

        var error = await Assert.ThrowsAsync<SignatureNotFoundException>(() => note.Kwargs.UpdateAsync(new { text = "y" }));
        Assert.Contains(note.Id, error.Message);
    }

    // ---- rules 6-11: callbacks ----

    [Fact]
    public async Task Rule6_every_success_callback_fires_exactly_once_and_error_callbacks_never()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var confirm = await mage.AsignAsync(Shop.SendConfirmation, new { template = "welcome" });
        var audit = await mage.AsignAsync(Shop.Audit, new { source = "checkout" });
        var audit2 = await mage.AsignAsync(Shop.Audit, new { source = "ledger" });
        var notify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm, audit, audit2], errorCallbacks: [notify]);

        await order.RunAsync(new OrderMessage(NewOrderId(), 1m));
        await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1);
        await shop.Recorder.WaitForAsync(Shop.Audit, 2);
        await DrainAsync(cluster, shop);

        Assert.Single(shop.Recorder.Of(Shop.SendConfirmation));
        Assert.Equal(["checkout", "ledger"], shop.Recorder.Of(Shop.Audit).Select(r => ((AuditMessage)r.Message!).Source).Order());
        Assert.Empty(shop.Recorder.Of(Shop.NotifyFailure));
        Assert.Equal((SignatureStatus.Done, SignatureStatus.Active, 1), await order.StateAsync());
        Assert.Equal(SignatureStatus.Pending, await notify.GetStatusAsync()); // released, never run
    }

    [Fact]
    public async Task Rule6_a_task_that_returns_nothing_passes_null()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var note = await cluster.Client.AsignAsync(Shop.Note, new { text = "after touch" });
        var touch = await cluster.Client.AsignAsync(Shop.Touch, successCallbacks: [note]);

        await touch.RunAsync(new OrderMessage(NewOrderId(), 1m));

        var received = (NoteMessage)(await shop.Recorder.WaitForAsync(Shop.Note, 1))[0].Message!;
        Assert.Equal(new NoteMessage(null, "after touch"), received);
    }

    [Fact]
    public async Task Rule7_error_callbacks_get_the_failed_input_plus_their_own_kwargs_and_success_callbacks_never_fire()
    {
        var (cluster, shop) = await StartAsync(new Shop { ProcessOrderRetries = 0 });
        await using var _ = cluster;
        var mage = cluster.Client;
        var confirm = await mage.AsignAsync(Shop.SendConfirmation, new { template = "welcome" });
        var notify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var notifySms = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "sms", priority = "urgent" });
        var order = await mage.AsignAsync(Shop.ProcessOrder, new { priority = "high" }, [confirm], [notify, notifySms]);
        var id = NewOrderId("fail");

        await order.RunAsync(new OrderMessage(id, 9.99m));

        var received = await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 2);
        await DrainAsync(cluster, shop);
        var messages = received.Select(r => (OrderFailedMessage)r.Message!).OrderBy(m => m.Channel).ToArray();
        // the failed task's composed input (message + its kwargs), then each callback's own kwargs over it
        Assert.Equal(new OrderFailedMessage(id, 9.99m, "high", "email"), messages[0]);
        Assert.Equal(new OrderFailedMessage(id, 9.99m, "urgent", "sms"), messages[1]);
        Assert.All(received, r =>
        {
            Assert.Equal(order.Id, r.Failure!.SignatureId);
            Assert.Contains("card declined", r.Failure.Error);
        });
        Assert.Empty(shop.Recorder.Of(Shop.SendConfirmation));
        Assert.Equal(SignatureStatus.Failed, await order.GetStatusAsync());
        Assert.Equal(SignatureStatus.Done, await notify.GetStatusAsync());
    }

    [Fact]
    public async Task Rule8_each_callback_fires_once_even_when_the_same_run_is_delivered_twice()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var audit = await cluster.Client.AsignAsync(Shop.Audit, new { source = "dup" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);

        // Two deliveries of the same signature (as after a crash and reclaim): the body may run twice,
        // the transition to Done and its callbacks happen once.
        var message = new OrderMessage(NewOrderId(), 1m);
        await order.RunAsync(message);
        await order.RunAsync(message);

        await shop.Recorder.WaitForAsync(Shop.Audit, 1);
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.Audit));
    }

    [Fact]
    public async Task Rule9_a_callback_whose_input_does_not_fit_fails_naming_member_and_types_and_fires_its_own_error_callbacks()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var onConfirmFailed = await mage.AsignAsync(Shop.Note, new { text = "confirmation failed" });
        var confirm = await mage.AsignAsync(Shop.SendConfirmation, new { template = "welcome" }, errorCallbacks: [onConfirmFailed]);
        var describe = await mage.AsignAsync(Shop.Describe, successCallbacks: [confirm]); // returns a string, not a receipt

        await describe.RunAsync(new OrderMessage(NewOrderId(), 1m));

        var failed = (await shop.Recorder.WaitForAsync(Shop.Note, 1))[0];
        Assert.Equal(confirm.Id, failed.Failure!.SignatureId);
        Assert.Contains("'send-confirmation'", failed.Failure.Error);
        Assert.Contains("receipt", failed.Failure.Error);
        Assert.Contains(typeof(ConfirmationMessage).FullName!, failed.Failure.Error);
        Assert.Contains(typeof(OrderReceipt).FullName!, failed.Failure.Error);
        Assert.Equal(SignatureStatus.Failed, await confirm.GetStatusAsync());
        Assert.Empty(shop.Recorder.Of(Shop.SendConfirmation));
        Assert.Equal(SignatureStatus.Done, await describe.GetStatusAsync());
    }

    [Fact]
    public async Task Rule9_a_missing_required_member_fails_naming_it_and_is_not_retried()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var onFailed = await cluster.Client.AsignAsync(Shop.Note, new { text = "no template" });
        var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation, errorCallbacks: [onFailed]); // template never bound

        await confirm.RunAsync(new { receipt = new { orderId = "x", charged = 1m } });

        var failed = (await shop.Recorder.WaitForAsync(Shop.Note, 1))[0];
        Assert.Contains("template", failed.Failure!.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal((SignatureStatus.Failed, SignatureStatus.Active, 1), await confirm.StateAsync());
    }

    [Fact]
    public async Task Rule10_a_run_whose_signature_is_gone_is_not_executed_nor_retried()
    {
        var (cluster, shop) = await StartAsync(configure: o => o.ActiveTtl = TimeSpan.FromMilliseconds(300));
        await using var _ = cluster;
        var doomed = await cluster.Client.AsignAsync(Shop.ProcessOrder);
        await Recorder.WaitUntilAsync(async () => await cluster.Client.GetSignatureAsync(doomed.Id) is null, "the signature expires");

        await doomed.RunAsync(new OrderMessage("gone-1", 1m));
        await DrainAsync(cluster, shop);

        Assert.DoesNotContain(shop.Recorder.Of(Shop.ProcessOrder), r => ((OrderMessage)r.Message!).OrderId == "gone-1");
    }

    [Fact]
    public async Task Rule11_N_retries_mean_N_plus_1_attempts_and_error_callbacks_fire_once_after_the_last()
    {
        var (cluster, shop) = await StartAsync(new Shop { ProcessOrderRetries = 2 });
        await using var _ = cluster;
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, errorCallbacks: [notify]);

        await order.RunAsync(new OrderMessage(NewOrderId("fail"), 1m));

        await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1);
        await DrainAsync(cluster, shop);
        Assert.Equal([1, 2, 3], shop.Recorder.Of(Shop.ProcessOrder).Select(r => r.Attempt));
        Assert.Single(shop.Recorder.Of(Shop.NotifyFailure));
        var all = shop.Recorder.All.ToList();
        Assert.True(all.FindIndex(r => r.Task == Shop.NotifyFailure) > all.FindLastIndex(r => r.Task == Shop.ProcessOrder),
            "the error callback ran before the last attempt");
        Assert.Equal((SignatureStatus.Failed, SignatureStatus.Active, 3), await order.StateAsync());
    }

    [Fact]
    public async Task Rule11_a_retry_that_succeeds_fires_success_callbacks_once_and_no_error_callback()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var audit = await cluster.Client.AsignAsync(Shop.Audit, new { source = "s" });
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit], errorCallbacks: [notify]);

        await order.RunAsync(new OrderMessage(NewOrderId("flaky"), 1m));

        await shop.Recorder.WaitForAsync(Shop.Audit, 1);
        await DrainAsync(cluster, shop);
        Assert.Equal([1, 2], shop.Recorder.Of(Shop.ProcessOrder).Select(r => r.Attempt));
        Assert.Single(shop.Recorder.Of(Shop.Audit));
        Assert.Empty(shop.Recorder.Of(Shop.NotifyFailure));
        Assert.Equal((SignatureStatus.Done, SignatureStatus.Active, 2), await order.StateAsync());
    }

    [Fact]
    public async Task Rule11_between_attempts_the_status_stays_Active()
    {
        var (cluster, shop) = await StartAsync(new Shop { ProcessOrderRetries = 1 }, worker: o => o.RetryDelay = TimeSpan.FromSeconds(2));
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder);

        await order.RunAsync(new OrderMessage(NewOrderId("fail"), 1m));
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);
        await Recorder.WaitUntilAsync(async () => (await order.GetInfoAsync()).Attempts == 1, "the first attempt is recorded");

        Assert.Equal(SignatureStatus.Active, await order.GetStatusAsync());
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 2);
        await Recorder.WaitUntilAsync(async () => await order.GetStatusAsync() == SignatureStatus.Failed, "the last attempt fails");
    }

    [Fact]
    public async Task Rule11_a_non_retryable_error_fails_at_once()
    {
        var (cluster, shop) = await StartAsync(new Shop { ProcessOrderRetries = 3 });
        await using var _ = cluster;
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, errorCallbacks: [notify]);

        await order.RunAsync(new OrderMessage(NewOrderId("fatal"), 1m));

        var failure = (await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1))[0].Failure!;
        Assert.Contains("is invalid", failure.Error);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));
    }

    [Fact]
    public async Task Rule11_a_timeout_counts_as_a_failed_attempt()
    {
        var (cluster, shop) = await StartAsync(new Shop { ProcessOrderRetries = 1, ProcessOrderTimeout = TimeSpan.FromMilliseconds(100) });
        await using var _ = cluster;
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, errorCallbacks: [notify]);

        await order.RunAsync(new OrderMessage(NewOrderId("slow"), 1m));

        var failure = (await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1))[0].Failure!;
        Assert.Contains("Timed out", failure.Error);
        Assert.Equal([1, 2], shop.Recorder.Of(Shop.ProcessOrder).Select(r => r.Attempt));
    }

    // ---- rules 12-15: status and storage ----

    [Fact]
    public async Task Rule12_status_moves_Pending_Active_Done_recording_the_last_status()
    {
        var (cluster, shop) = await StartAsync(new Shop { ProcessOrderRetries = 0 });
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder);
        Assert.Equal(SignatureStatus.Pending, await order.GetStatusAsync());

        await order.RunAsync(new OrderMessage(NewOrderId(), 1m));

        await Recorder.WaitUntilAsync(async () => await order.GetStatusAsync() == SignatureStatus.Done, "the order is done");
        Assert.Equal(SignatureStatus.Active, (await order.GetInfoAsync()).LastStatus);
    }

    [Fact]
    public async Task Rule13_a_run_of_a_finished_signature_is_not_executed()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var audit = await cluster.Client.AsignAsync(Shop.Audit, new { source = "once" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);
        await order.RunAsync(new OrderMessage("first", 1m));
        await Recorder.WaitUntilAsync(async () => await order.GetStatusAsync() == SignatureStatus.Done, "the order is done");

        await order.RunAsync(new OrderMessage("second", 1m));
        await DrainAsync(cluster, shop);

        Assert.Equal(["first"], shop.Recorder.Of(Shop.ProcessOrder).Select(r => ((OrderMessage)r.Message!).OrderId));
        Assert.Single(shop.Recorder.Of(Shop.Audit));
    }

    [Fact]
    public async Task Rule14_an_unfinished_signature_expires_after_the_active_ttl()
    {
        var (cluster, _) = await StartAsync(configure: o => o.ActiveTtl = TimeSpan.FromMilliseconds(400));
        await using var _ = cluster;
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder);
        Assert.NotNull(await cluster.Client.GetSignatureAsync(order.Id));

        await Recorder.WaitUntilAsync(async () => await cluster.Client.GetSignatureAsync(order.Id) is null, "the active TTL passes", TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<SignatureNotFoundException>(() => order.GetStatusAsync());
    }

    [Fact]
    public async Task Rule14_done_ttl_zero_deletes_the_finished_signature_and_its_released_callbacks_at_once()
    {
        var (cluster, shop) = await StartAsync(configure: o => o.DoneTtl = TimeSpan.Zero);
        await using var _ = cluster;
        var audit = await cluster.Client.AsignAsync(Shop.Audit, new { source = "s" });
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit], errorCallbacks: [notify]);

        await order.RunAsync(new OrderMessage(NewOrderId(), 1m));
        await shop.Recorder.WaitForAsync(Shop.Audit, 1);
        await DrainAsync(cluster, shop);

        Assert.Null(await cluster.Client.GetSignatureAsync(order.Id));
        Assert.Null(await cluster.Client.GetSignatureAsync(notify.Id));
        Assert.Null(await cluster.Client.GetSignatureAsync(audit.Id));
    }

    [Fact]
    public async Task Rule14_a_positive_done_ttl_keeps_the_finished_signature_for_that_long()
    {
        var (cluster, _) = await StartAsync(configure: o => o.DoneTtl = TimeSpan.FromMilliseconds(800));
        await using var _ = cluster;
        var note = await cluster.Client.AsignAsync(Shop.Note);
        await note.RunAsync(new NoteMessage(Text: "x"));

        await Recorder.WaitUntilAsync(async () => await cluster.Client.GetSignatureAsync(note.Id) is { } s && await s.GetStatusAsync() == SignatureStatus.Done, "the note is done");
        await Recorder.WaitUntilAsync(async () => await cluster.Client.GetSignatureAsync(note.Id) is null, "the done TTL passes", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Rule14_workers_publish_task_definitions_so_a_producer_that_lacks_the_task_can_sign_by_name()
    {
        var shop = new Shop();
        await using var cluster = await TestCluster.StartAsync(UseBackend(), o => { }, workers: 0);
        await using var workers = await TestCluster.StartAsync(UseBackend(), shop.Register, workers: 1);

        var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation, new { template = "remote" });

        Assert.Equal("receipt", confirm.ReturnField); // from the definition the worker published
        await confirm.RunAsync(new { receipt = new { orderId = "r", charged = 2m } });
        var received = (ConfirmationMessage)(await shop.Recorder.WaitForAsync(Shop.SendConfirmation, 1))[0].Message!;
        Assert.Equal(new ConfirmationMessage(new OrderReceipt("r", 2m), "remote"), received);
    }

    [Fact]
    public async Task Rule15_signing_an_unknown_task_fails_naming_it()
    {
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;

        var error = await Assert.ThrowsAsync<UnknownTaskException>(() => cluster.Client.AsignAsync("send-notification", new { template = "welcome_email" }));
        Assert.Contains("'send-notification'", error.Message);
    }

    // ---- rules 16-17: delivery, bad input, several workers ----

    [Fact]
    public async Task Rule16_two_workers_run_1000_signatures_with_every_callback_exactly_once()
    {
        var (cluster, shop) = await StartAsync(workers: 2);
        await using var _ = cluster;
        const int count = 1000;
        var orders = new List<(TaskSignature Order, string Id)>();
        for (var i = 0; i < count; i++)
        {
            var audit = await cluster.Client.AsignAsync(Shop.Audit, new { source = $"s{i}" });
            var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);
            orders.Add((order, $"bulk-{i}"));
        }
        await Task.WhenAll(orders.Select(o => o.Order.RunAsync(new OrderMessage(o.Id, 1m))));

        await shop.Recorder.WaitForAsync(Shop.Audit, count, TimeSpan.FromSeconds(60));
        await DrainAsync(cluster, shop);

        Assert.Equal(count, shop.Recorder.Of(Shop.ProcessOrder).Select(r => r.SignatureId).Distinct().Count());
        var audits = shop.Recorder.Of(Shop.Audit).Select(r => ((AuditMessage)r.Message!).Source).ToArray();
        Assert.Equal(count, audits.Length);
        Assert.Equal(count, audits.Distinct().Count());
    }

    [Fact]
    public async Task Rule16_a_run_abandoned_by_a_stopped_worker_is_reclaimed_and_its_callbacks_fire_once()
    {
        var shop = new Shop();
        await using var cluster = await TestCluster.StartAsync(UseBackend(), shop.Register, workers: 0);
        var first = await cluster.StartWorkerAsync(o => o.VisibilityTimeout = TimeSpan.FromMilliseconds(600), shutdownTimeout: TimeSpan.FromMilliseconds(100));
        var audit = await cluster.Client.AsignAsync(Shop.Audit, new { source = "reclaimed" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);

        // "slow-" blocks until cancelled: the first worker is stopped mid-task and never acknowledges.
        await order.RunAsync(new OrderMessage("slow-reclaim", 1m), kwargs: new { });
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);
        await cluster.StopAsync(first);
        Assert.Equal(SignatureStatus.Active, await order.GetStatusAsync());

        // The second worker takes the entry over after the visibility timeout; the kwarg flips it to succeed.
        await order.Kwargs.UpdateAsync(new { orderId = "after-reclaim" });
        await cluster.StartWorkerAsync(o => o.VisibilityTimeout = TimeSpan.FromMilliseconds(600));

        await shop.Recorder.WaitForAsync(Shop.Audit, 1);
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.Audit));
        Assert.Equal(new OrderReceipt("after-reclaim", 1m), ((AuditMessage)shop.Recorder.Of(Shop.Audit)[0].Message!).MageflowResults);
        // Handed back at shutdown: not counted as an attempt (rule 11), so the run that finished is attempt 1.
        Assert.Equal((SignatureStatus.Done, SignatureStatus.Active, 1), await order.StateAsync());
    }

    [Fact]
    public async Task Bad_input_malformed_json_fails_the_signature_and_the_worker_keeps_serving()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var onFailed = await cluster.Client.AsignAsync(Shop.Note, new { text = "bad json" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, errorCallbacks: [onFailed]);

        await cluster.Backend.DispatchAsync(Shop.ProcessOrder, new Envelope(order.Id, EnvelopeKind.Message, "{not json"u8.ToArray()), default);

        var failure = (await shop.Recorder.WaitForAsync(Shop.Note, 1))[0].Failure!;
        Assert.Contains("not valid JSON", failure.Error);
        Assert.Equal(SignatureStatus.Failed, await order.GetStatusAsync());
        await DrainAsync(cluster, shop);
    }

    [Fact]
    public async Task Bad_input_a_signature_of_a_task_this_worker_does_not_know_fails_with_its_name()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var onFailed = await cluster.Client.AsignAsync(Shop.Note, new { text = "unknown task" });
        var ghost = await cluster.Client.AsignAsync(new SignatureRequest("ghost-task") { MessageType = typeof(OrderMessage), ReturnField = "x", ErrorCallbacks = [onFailed] });

        // queued on a stream this worker serves, but naming a task it does not have
        await cluster.Backend.DispatchAsync(Shop.ProcessOrder, new Envelope(ghost.Id, EnvelopeKind.Message, "{}"u8.ToArray()), default);

        var failure = (await shop.Recorder.WaitForAsync(Shop.Note, 1))[0].Failure!;
        Assert.Contains("'ghost-task'", failure.Error);
        Assert.Equal(SignatureStatus.Failed, await ghost.GetStatusAsync());
        await DrainAsync(cluster, shop);
    }

    [Fact]
    public async Task Bad_input_kwargs_that_are_not_an_object_are_rejected_when_signing()
    {
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;

        var error = await Assert.ThrowsAsync<ArgumentException>(() => cluster.Client.AsignAsync(Shop.ProcessOrder, new[] { 1, 2 }));
        Assert.Contains("JSON object", error.Message);
    }

    /// <summary>
    /// Waits until every run queued so far has been processed: a sentinel run is queued behind them on each
    /// task's queue (read in FIFO order), and once it has run and no worker has a run in flight, everything
    /// read before it is finished. Callback queues are drained after the queues that feed them.
    /// </summary>
    private static async Task DrainAsync(TestCluster cluster, Shop shop)
    {
        foreach (var task in new[] { Shop.ProcessOrder, Shop.Describe, Shop.Touch, Shop.SendConfirmation, Shop.Audit, Shop.NotifyFailure, Shop.Note, Shop.Ship, Shop.Summarize })
        {
            var marker = $"{Recorder.SentinelPrefix}{Guid.NewGuid():N}";
            var sentinel = await cluster.Client.AsignAsync(task);
            object message = task switch
            {
                Shop.ProcessOrder or Shop.Describe or Shop.Touch => new OrderMessage(marker, 0m),
                Shop.Audit => new AuditMessage(null, marker),
                Shop.NotifyFailure => new OrderFailedMessage(marker, 0m, null, marker),
                Shop.SendConfirmation => new ConfirmationMessage(null, marker),
                Shop.Ship => new ShipMessage(new OrderReceipt(marker, 0m), marker),
                Shop.Summarize => new SummaryMessage(null, marker),
                _ => new NoteMessage(null, marker),
            };
            await sentinel.RunAsync(message);
            await Recorder.WaitUntilAsync(() => Task.FromResult(shop.Recorder.HasSeen(task, marker) && cluster.InFlight == 0), $"the {task} queue drains");
        }
        shop.Recorder.RemoveSentinels();
    }
}
