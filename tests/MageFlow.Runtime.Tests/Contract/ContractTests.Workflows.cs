using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>Rules 27–30 and contract §6–§7 (chains and swarms), on every backend.</summary>
public abstract partial class ContractTests
{
    private static OrderMessage Order(string id, decimal amount = 1m) => new(id, amount);

    // ---- rule 27: chains ----

    [Fact]
    public async Task Rule27_each_step_gets_the_previous_result_and_the_chain_kwargs_and_the_callbacks_get_the_last_result()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var audit = await mage.AsignAsync(Shop.Audit, new { source = "step-callback" });
        var charge = await mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);
        var ship = await mage.AsignAsync(Shop.Ship);
        var note = await mage.AsignAsync(Shop.Note, new { text = "shipped" });
        var chain = await mage.ChainAsync([charge, ship], successCallbacks: [note], kwargs: new { carrier = "ups", priority = "chain" });
        var id = NewOrderId();

        await chain.RunAsync(Order(id, 12.5m));

        var noted = (NoteMessage)(await shop.Recorder.WaitForAsync(Shop.Note, 1))[0].Message!;
        Assert.Equal(new NoteMessage($"track-{id}-ups", "shipped"), noted);
        var charged = (OrderMessage)shop.Recorder.Of(Shop.ProcessOrder).Single().Message!;
        Assert.Equal((id, 12.5m, "chain"), (charged.OrderId, charged.Amount, charged.Priority)); // the chain's message and kwargs
        var shipped = (ShipMessage)shop.Recorder.Of(Shop.Ship).Single().Message!;
        Assert.Equal(new ShipMessage(new OrderReceipt(id, 12.5m), "ups"), shipped);
        var audited = (AuditMessage)(await shop.Recorder.WaitForAsync(Shop.Audit, 1))[0].Message!;
        Assert.Equal(new OrderReceipt(id, 12.5m), audited.MageflowResults); // a step's own callbacks fire too
        Assert.Equal(SignatureStatus.Done, await chain.GetStatusAsync());
        Assert.Equal(SignatureStatus.Done, await charge.GetStatusAsync());
        Assert.Equal(SignatureStatus.Done, await ship.GetStatusAsync());
        Assert.Equal([charge.Id, ship.Id], chain.StepIds);
    }

    [Fact]
    public async Task Rule27_a_step_that_fails_for_good_fails_the_chain_with_that_steps_input_and_later_steps_never_run()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var stepNotify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "step" });
        var chainNotify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "chain" });
        var charge = await mage.AsignAsync(Shop.ProcessOrder, errorCallbacks: [stepNotify]);
        var ship = await mage.AsignAsync(Shop.Ship);
        var chain = await mage.ChainAsync([charge, ship], errorCallbacks: [chainNotify], kwargs: new { priority = "chain" });
        var id = NewOrderId("fatal");

        await chain.RunAsync(Order(id, 3m));

        var failures = await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 2);
        var channels = failures.Select(f => ((OrderFailedMessage)f.Message!).Channel).Order().ToArray();
        Assert.Equal(["chain", "step"], channels);
        Assert.All(failures, f =>
        {
            var failed = (OrderFailedMessage)f.Message!;
            Assert.Equal((id, 3m, "chain"), (failed.OrderId, failed.Amount, failed.Priority)); // the failed step's input
            Assert.Equal(charge.Id, f.Failure!.SignatureId);
        });
        await WaitForInfoAsync(chain, i => i.Status == SignatureStatus.Failed, "is failed");
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.Ship));
        Assert.Equal(SignatureStatus.Pending, await ship.GetStatusAsync());
        Assert.Contains("is invalid", (await chain.GetInfoAsync()).Failure!.Error);
    }

    [Fact]
    public async Task A_chain_as_a_success_callback_feeds_the_result_to_its_first_step_and_RunAndWait_returns_the_last_result()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var ship = await mage.AsignAsync(Shop.Ship, new { carrier = "dhl" });
        var note = await mage.AsignAsync(Shop.Note);
        var shipping = await mage.ChainAsync([ship, note]);
        var order = await mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [shipping]);
        var id = NewOrderId();

        await order.RunAsync(Order(id, 2m));

        var noted = (NoteMessage)(await shop.Recorder.WaitForAsync(Shop.Note, 1))[0].Message!;
        Assert.Equal($"track-{id}-dhl", noted.MageflowResults);
        await WaitForInfoAsync(shipping, i => i.Status == SignatureStatus.Done, "is done");

        var charge = await mage.AsignAsync(Shop.ProcessOrder);
        var ship2 = await mage.AsignAsync(Shop.Ship);
        var waited = await (await mage.ChainAsync([charge, ship2])).RunAndWaitAsync(Order("waited", 1m));
        Assert.Equal("track-waited-post", waited.GetString());
    }

    [Fact]
    public async Task A_chain_refuses_no_steps_and_a_step_already_used_by_another_chain_or_swarm()
    {
        var (cluster, _) = await StartAsync(workers: 0);
        await using var _ = cluster;
        var mage = cluster.Client;
        var step = await mage.AsignAsync(Shop.ProcessOrder);
        var item = await mage.AsignAsync(Shop.ProcessOrder);
        await mage.ChainAsync([step]);
        var swarm = await mage.SwarmAsync();
        await swarm.AddAsync(item);

        await Assert.ThrowsAsync<ArgumentException>(() => mage.ChainAsync([]));
        var reused = await Assert.ThrowsAsync<InvalidOperationException>(() => mage.ChainAsync([step]));
        Assert.Contains(step.Id, reused.Message);
        var fromSwarm = await Assert.ThrowsAsync<InvalidOperationException>(() => mage.ChainAsync([item]));
        Assert.Contains(item.Id, fromSwarm.Message);
        var intoSwarm = await Assert.ThrowsAsync<InvalidOperationException>(() => swarm.AddAsync(step));
        Assert.Contains(step.Id, intoSwarm.Message);
    }

    [Fact]
    public async Task Suspending_a_running_chain_pauses_every_step_and_resume_carries_it_to_the_end()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var charge = await mage.AsignAsync(Shop.ProcessOrder);
        var ship = await mage.AsignAsync(Shop.Ship);
        var note = await mage.AsignAsync(Shop.Note);
        var chain = await mage.ChainAsync([charge, ship], successCallbacks: [note]);
        var id = await RunAtGateAsync(chain, shop);

        await chain.SuspendAsync();
        shop.Gates.Open(id);

        await WaitForInfoAsync(charge, i => i.HasSavedOutcome, "keeps the outcome of its body");
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.Ship));
        Assert.Equal(SignatureStatus.Suspended, await chain.GetStatusAsync());
        Assert.Equal(SignatureStatus.Suspended, await ship.GetStatusAsync());

        await chain.ResumeAsync();

        var noted = (NoteMessage)(await shop.Recorder.WaitForAsync(Shop.Note, 1))[0].Message!;
        Assert.Equal($"track-{id}-post", noted.MageflowResults);
        await WaitForInfoAsync(chain, i => i.Status == SignatureStatus.Done, "is done");
    }

    [Fact]
    public async Task Canceling_a_running_chain_cancels_the_running_step_and_every_later_step()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var charge = await mage.AsignAsync(Shop.ProcessOrder);
        var ship = await mage.AsignAsync(Shop.Ship);
        var notify = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "chain" });
        var chain = await mage.ChainAsync([charge, ship], errorCallbacks: [notify]);
        var id = await RunAtGateAsync(chain, shop);

        await chain.CancelAsync();

        await shop.Gates.WaitCancelledAsync(id);
        await Recorder.WaitUntilAsync(() => Task.FromResult(cluster.InFlight == 0), "the canceled body ends");
        await DrainAsync(cluster, shop);
        Assert.Equal([SignatureStatus.Canceled, SignatureStatus.Canceled, SignatureStatus.Canceled],
            [await chain.GetStatusAsync(), await charge.GetStatusAsync(), await ship.GetStatusAsync()]);
        Assert.Empty(shop.Recorder.Of(Shop.Ship));
        Assert.Empty(shop.Recorder.Of(Shop.NotifyFailure));
    }

    // ---- rules 28-30: swarms ----

    [Fact]
    public async Task Rule28_items_run_with_their_message_and_the_swarm_kwargs_never_more_than_MaxConcurrency_at_once()
    {
        var (cluster, shop) = await StartAsync(new Shop { SleepPerRun = TimeSpan.FromMilliseconds(150) }, workers: 2);
        await using var _ = cluster;
        var mage = cluster.Client;
        var summary = await mage.AsignAsync(Shop.Summarize, new { batch = "b-1" });
        var swarm = await mage.SwarmAsync(new SwarmOptions { MaxConcurrency = 2 }, successCallbacks: [summary], kwargs: new { priority = "swarm" });
        var ids = Enumerable.Range(0, 6).Select(i => $"sleep-{i}-{Guid.NewGuid():N}").ToArray();

        foreach (var id in ids) await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order(id, 2m));
        await swarm.CloseAsync();

        var summarized = (SummaryMessage)(await shop.Recorder.WaitForAsync(Shop.Summarize, 1))[0].Message!;
        Assert.Equal("b-1", summarized.Batch);
        Assert.Equal(ids.Order(), summarized.Receipts!.Select(r => r.OrderId).Order());
        Assert.All(shop.Recorder.Of(Shop.ProcessOrder), r => Assert.Equal("swarm", ((OrderMessage)r.Message!).Priority));
        Assert.InRange(shop.MostRunning, 1, 2);
        var info = await swarm.GetInfoAsync();
        Assert.Equal(SignatureStatus.Done, info.Status);
        Assert.Equal((6, 6, 0, 0, true), (info.Swarm!.Added, info.Swarm.Succeeded, info.Swarm.Failed, info.Swarm.Running, info.Swarm.Closed));
        Assert.Equal(6, (await mage.ListSignaturesAsync(new SignatureQuery { TaskName = Shop.ProcessOrder, Status = SignatureStatus.Done }).ToArrayAsync()).Length);
    }

    [Fact]
    public async Task Rule28_items_added_before_the_start_wait_for_RunAsync_get_the_swarm_message_and_start_in_the_order_added()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var summary = await mage.AsignAsync(Shop.Summarize);
        var swarm = await mage.SwarmAsync(new SwarmOptions { MaxConcurrency = 1 }, successCallbacks: [summary]);
        var items = new List<TaskSignature>();
        for (var i = 0; i < 4; i++) items.Add(await mage.AsignAsync(Shop.ProcessOrder, new { priority = $"p{i}" }));
        await swarm.AddAsync(items);
        await swarm.CloseAsync();
        await DrainAsync(cluster, shop);
        Assert.Empty(shop.Recorder.Of(Shop.ProcessOrder)); // not started yet

        await swarm.RunAsync(Order("swarm-message", 5m));

        var summarized = (SummaryMessage)(await shop.Recorder.WaitForAsync(Shop.Summarize, 1))[0].Message!;
        Assert.Equal(4, summarized.Receipts!.Count);
        var runs = shop.Recorder.Of(Shop.ProcessOrder).Select(r => (OrderMessage)r.Message!).ToArray();
        Assert.Equal(["p0", "p1", "p2", "p3"], runs.Select(r => r.Priority)); // in order: one at a time
        Assert.All(runs, r => Assert.Equal(("swarm-message", 5m), (r.OrderId, r.Amount)));
    }

    [Fact]
    public async Task Rule29_at_StopAfterFailures_the_swarm_fails_once_and_items_not_started_are_canceled()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var alert = await mage.AsignAsync(Shop.NotifyFailure, new { channel = "alert" });
        var summary = await mage.AsignAsync(Shop.Summarize);
        var swarm = await mage.SwarmAsync(new SwarmOptions { MaxConcurrency = 1, StopAfterFailures = 2 }, [summary], [alert]);
        var items = new List<TaskSignature>();
        for (var i = 0; i < 5; i++) items.Add(await mage.AsignAsync(Shop.ProcessOrder));
        await swarm.AddAsync(items);

        await swarm.RunAsync(Order("fatal-swarm", 9m)); // every item fails: the swarm message makes them fatal

        var alerted = (await shop.Recorder.WaitForAsync(Shop.NotifyFailure, 1))[0];
        Assert.Equal(("fatal-swarm", 9m, "alert"), (((OrderFailedMessage)alerted.Message!).OrderId, ((OrderFailedMessage)alerted.Message!).Amount, ((OrderFailedMessage)alerted.Message!).Channel));
        Assert.Equal(swarm.Id, alerted.Failure!.SignatureId);
        await WaitForInfoAsync(swarm, i => i.Status == SignatureStatus.Failed, "is failed");
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.NotifyFailure));
        Assert.Empty(shop.Recorder.Of(Shop.Summarize));
        Assert.Equal(2, shop.Recorder.Of(Shop.ProcessOrder).Count);
        Assert.Equal(3, (await Task.WhenAll(items.Skip(2).Select(i => i.GetStatusAsync()))).Count(s => s == SignatureStatus.Canceled));
        var late = await mage.AsignAsync(Shop.ProcessOrder);
        await Assert.ThrowsAsync<SwarmClosedException>(() => swarm.AddAsync(late));
    }

    [Fact]
    public async Task Rule29_failed_items_below_the_limit_do_not_stop_the_swarm_and_SwarmResults_get_every_outcome()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var summary = await mage.AsignAsync(Shop.Summarize);
        var outcomes = await mage.AsignAsync(Shop.SummarizeOutcomes);
        var swarm = await mage.SwarmAsync(new SwarmOptions { StopAfterFailures = 2 }, [summary, outcomes]);
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("ok-1"));
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("fatal-1"));
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("ok-2"));
        await swarm.CloseAsync();

        var summarized = (SummaryMessage)(await shop.Recorder.WaitForAsync(Shop.Summarize, 1))[0].Message!;
        Assert.Equal(["ok-1", "ok-2"], summarized.Receipts!.Select(r => r.OrderId).Order());
        var all = ((OutcomesMessage)(await shop.Recorder.WaitForAsync(Shop.SummarizeOutcomes, 1))[0].Message!).Outcomes!.Items;
        Assert.Equal(3, all.Count);
        Assert.Equal(2, all.Count(o => o.Succeeded && o.Result!.OrderId.StartsWith("ok-", StringComparison.Ordinal) && o.Error is null));
        var failed = Assert.Single(all, o => !o.Succeeded);
        Assert.Null(failed.Result);
        Assert.Contains("is invalid", failed.Error);
        Assert.Equal(SignatureStatus.Done, await swarm.GetStatusAsync());
    }

    [Fact]
    public async Task MaxTasks_refuses_a_batch_past_it_whole_and_CloseOnMaxTasks_closes_the_swarm()
    {
        var (cluster, _) = await StartAsync(workers: 0);
        await using var _ = cluster;
        var mage = cluster.Client;
        var swarm = await mage.SwarmAsync(new SwarmOptions { MaxTasks = 3 });
        async Task<TaskSignature[]> SignAsync(int n) => await Task.WhenAll(Enumerable.Range(0, n).Select(_ => mage.AsignAsync(Shop.ProcessOrder)));
        await swarm.AddAsync(await SignAsync(2));

        var full = await Assert.ThrowsAsync<SwarmFullException>(async () => await swarm.AddAsync(await SignAsync(2)));
        Assert.Equal(swarm.Id, full.SwarmId);
        Assert.Contains(swarm.Id, full.Message);
        Assert.Equal(2, (await swarm.GetInfoAsync()).Swarm!.Added); // nothing of the refused batch was added

        await swarm.AddAsync(await SignAsync(1)); // reaches MaxTasks: closes
        var closed = await Assert.ThrowsAsync<SwarmClosedException>(async () => await swarm.AddAsync(await SignAsync(1)));
        Assert.Equal(swarm.Id, closed.SwarmId);

        var open = await mage.SwarmAsync(new SwarmOptions { MaxTasks = 1, CloseOnMaxTasks = false });
        await open.AddAsync(await SignAsync(1));
        await Assert.ThrowsAsync<SwarmFullException>(async () => await open.AddAsync(await SignAsync(1)));
    }

    [Fact]
    public async Task Rule29_an_empty_closed_swarm_completes_with_an_empty_list_and_an_unclosed_one_never_completes()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var emptySummary = await mage.AsignAsync(Shop.Summarize, new { batch = "empty" });
        var empty = await mage.SwarmAsync(successCallbacks: [emptySummary]);
        var openSummary = await mage.AsignAsync(Shop.Summarize, new { batch = "open" });
        var open = await mage.SwarmAsync(successCallbacks: [openSummary]);
        await open.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("open-1"));

        await empty.CloseAsync();

        var summarized = (SummaryMessage)(await shop.Recorder.WaitForAsync(Shop.Summarize, 1))[0].Message!;
        Assert.Equal(("empty", 0), (summarized.Batch, summarized.Receipts!.Count));
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.Summarize));
        Assert.False((await open.GetInfoAsync()).IsFinished);
    }

    [Fact]
    public async Task Rule30_an_empty_swarm_item_completes_in_the_step_that_starts_it_and_its_swarm_goes_on_to_the_next_item()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var inner = await mage.SwarmAsync();
        var outer = await mage.SwarmAsync(new SwarmOptions { MaxConcurrency = 1 });
        await outer.AddAsync(inner);
        await inner.CloseAsync(); // empty and closed: it completes as soon as its swarm starts it, in that very step
        await outer.AddAsync(await mage.AsignAsync(Shop.ProcessOrder));
        await outer.CloseAsync();

        var results = await outer.RunAndWaitAsync(Order("after-empty"));

        Assert.Equal(2, results.GetArrayLength());
        Assert.Equal(0, results[0].GetArrayLength()); // the empty swarm's results, first: it finished first
        Assert.Equal(SignatureStatus.Done, await inner.GetStatusAsync());
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder));

        // Its only item: the swarm finishes inside the step that started it, and stays finished.
        var loneInner = await mage.SwarmAsync();
        var lone = await mage.SwarmAsync();
        await lone.AddAsync(loneInner);
        await loneInner.CloseAsync();
        await lone.CloseAsync();
        Assert.Equal(1, (await lone.RunAndWaitAsync(Order("alone"))).GetArrayLength());
        Assert.Equal(SignatureStatus.Done, await lone.GetStatusAsync());
    }

    [Fact]
    public async Task Rule30_a_chain_item_reports_its_last_result_and_a_swarm_step_passes_its_results_list_on()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var summary = await mage.AsignAsync(Shop.Summarize, new { batch = "nested" });
        var inner = await mage.SwarmAsync();
        var chain = await mage.ChainAsync([inner, summary]);
        await inner.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("in-1"));
        await inner.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("in-2"));
        await inner.CloseAsync();
        await shop.Recorder.WaitForAsync(Shop.ProcessOrder, 2);
        await DrainAsync(cluster, shop);
        Assert.Equal(SignatureStatus.Pending, await inner.GetStatusAsync()); // a chain step waits for its chain

        await chain.RunAsync(Order("unused")); // starts the swarm: items with their own messages kept them

        var summarized = (SummaryMessage)(await shop.Recorder.WaitForAsync(Shop.Summarize, 1))[0].Message!;
        Assert.Equal(["in-1", "in-2"], summarized.Receipts!.Select(r => r.OrderId).Order());

        var charge = await mage.AsignAsync(Shop.ProcessOrder);
        var ship = await mage.AsignAsync(Shop.Ship);
        var shipping = await mage.ChainAsync([charge, ship]);
        var outer = await mage.SwarmAsync();
        await outer.AddAsync(shipping);
        await outer.CloseAsync();
        var results = await outer.RunAndWaitAsync(Order("via-chain"));
        Assert.Equal(["track-via-chain-post"], results.EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Suspend_and_cancel_of_a_running_swarm_apply_to_every_item()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var summary = await mage.AsignAsync(Shop.Summarize);
        var swarm = await mage.SwarmAsync(new SwarmOptions { MaxConcurrency = 1 }, successCallbacks: [summary]);
        var first = $"gate-{Guid.NewGuid():N}";
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order(first));
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("second"));
        await swarm.CloseAsync();
        await shop.Gates.WaitEnteredAsync(first);

        await swarm.SuspendAsync();
        shop.Gates.Open(first);
        await Recorder.WaitUntilAsync(() => Task.FromResult(cluster.InFlight == 0), "the first item's body ends");
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder)); // the second item waits: the swarm is paused
        Assert.Equal(SignatureStatus.Suspended, await swarm.GetStatusAsync());

        await swarm.ResumeAsync();

        var summarized = (SummaryMessage)(await shop.Recorder.WaitForAsync(Shop.Summarize, 1))[0].Message!;
        Assert.Equal(new[] { first, "second" }.Order(), summarized.Receipts!.Select(r => r.OrderId).Order());

        var canceled = await mage.SwarmAsync(successCallbacks: [await mage.AsignAsync(Shop.Summarize)]);
        var gated = $"gate-{Guid.NewGuid():N}";
        var item = await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder);
        await canceled.RunInSwarmAsync(item, Order(gated));
        await shop.Gates.WaitEnteredAsync(gated);
        await canceled.CancelAsync();
        await shop.Gates.WaitCancelledAsync(gated);
        Assert.Equal(SignatureStatus.Canceled, await item.GetStatusAsync());
        Assert.Equal(SignatureStatus.Canceled, await canceled.GetStatusAsync());
    }

    [Fact]
    public async Task Rule30_a_duplicate_item_completion_changes_nothing()
    {
        var (cluster, shop) = await StartAsync(workers: 0);
        await using var _ = cluster;
        var mage = cluster.Client;
        var backend = cluster.Backend;
        await backend.PrepareQueuesAsync([Shop.ProcessOrder], default); // this test is the worker of process-order
        var summary = await mage.AsignAsync(Shop.Summarize);
        var swarm = await mage.SwarmAsync(successCallbacks: [summary]);
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("once"));
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.ProcessOrder), Order("later"));
        await swarm.CloseAsync();
        // Reading is also what forwards a partitioned store's outbox (an item in another partition than its swarm is
        // dispatched, and its outcome recorded, a read later): read until both runs are queued.
        var entries = new List<Backends.Delivery>();
        await Recorder.WaitUntilAsync(async () =>
        {
            entries.AddRange((await backend.ReadAsync([Shop.ProcessOrder], "by-hand", 10, TimeSpan.FromMilliseconds(50), default)).Cast<Backends.Delivery>());
            return entries.Count == 2;
        }, "both items are queued");
        Backends.Delivery Entry(string id) => entries.Single(e => System.Text.Encoding.UTF8.GetString(e.Envelope.Payload.Span).Contains(id));
        async Task<SwarmProgress> ProgressAfterForwardingAsync(Func<SwarmProgress, bool> reached, string what)
        {
            await Recorder.WaitUntilAsync(async () =>
            {
                Assert.Empty(await backend.ReadAsync([Shop.ProcessOrder], "by-hand", 10, TimeSpan.Zero, default));
                return reached((await swarm.GetInfoAsync()).Swarm!);
            }, what);
            return (await swarm.GetInfoAsync()).Swarm!;
        }
        var first = Entry("once");
        var lifetimes = new Backends.SignatureLifetimes(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5));
        Assert.Equal(Backends.StartResult.Started, (await backend.StartAsync(first, TimeSpan.FromHours(1), default)).Result);
        var result = System.Text.Encoding.UTF8.GetBytes("""{"orderId":"once","charged":1}""");

        Assert.True((await backend.CompleteAsync(first, result, lifetimes, default)).Applied);
        Assert.False((await backend.CompleteAsync(first, result, lifetimes, default)).Applied); // a duplicate: a retried or taken-over finish

        var progress = await ProgressAfterForwardingAsync(p => p.Succeeded > 0, "the first item's outcome is recorded");
        Assert.Equal((2, 1, 1, 0), (progress.Added, progress.Running, progress.Succeeded, progress.Failed));
        Assert.False((await swarm.GetInfoAsync()).IsFinished);
        var last = Entry("later");
        await backend.StartAsync(last, TimeSpan.FromHours(1), default);
        await backend.CompleteAsync(last, System.Text.Encoding.UTF8.GetBytes("""{"orderId":"later","charged":1}"""), lifetimes, default);
        progress = await ProgressAfterForwardingAsync(p => p.Succeeded > 1, "the last item's outcome is recorded");
        Assert.Equal((2, 0, 2, 0), (progress.Added, progress.Running, progress.Succeeded, progress.Failed));
        Assert.Equal(SignatureStatus.Done, await swarm.GetStatusAsync());
        await cluster.StartWorkerAsync();
        var summarized = (SummaryMessage)(await shop.Recorder.WaitForAsync(Shop.Summarize, 1))[0].Message!;
        Assert.Equal(["later", "once"], summarized.Receipts!.Select(r => r.OrderId).Order());
        await DrainAsync(cluster, shop);
        Assert.Single(shop.Recorder.Of(Shop.Summarize));
    }

    [Fact]
    public async Task A_typed_swarm_returns_its_items_results_typed_from_RunAndWait()
    {
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var swarm = await mage.SwarmAsync<OrderReceipt>(new SwarmOptions { MaxConcurrency = 2 });
        await swarm.AddAsync(await Task.WhenAll(Enumerable.Range(0, 3).Select(i => mage.AsignAsync(Shop.ProcessOrder, new { orderId = $"typed-{i}" }))));
        await swarm.CloseAsync();

        var receipts = await swarm.RunAndWaitAsync(Order("ignored", 4m));

        Assert.Equal(["typed-0", "typed-1", "typed-2"], receipts.Select(r => r.OrderId).Order());
        Assert.All(receipts, r => Assert.Equal(4m, r.Charged)); // the swarm message's amount, the item's own order id
    }

    [Fact]
    public async Task A_chain_can_be_a_step_of_another_chain()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var charge = await mage.AsignAsync(Shop.ProcessOrder);
        var ship = await mage.AsignAsync(Shop.Ship, new { carrier = "inner" });
        var inner = await mage.ChainAsync([charge, ship]);
        var note = await mage.AsignAsync(Shop.Note, new { text = "outer" });
        var outer = await mage.ChainAsync([inner, note]);

        var last = await outer.RunAndWaitAsync(Order("nested", 6m));

        Assert.Equal(System.Text.Json.JsonValueKind.Null, last.ValueKind); // note returns nothing
        var noted = (NoteMessage)shop.Recorder.Of(Shop.Note).Single().Message!;
        Assert.Equal(new NoteMessage("track-nested-inner", "outer"), noted); // the inner chain's last result
        Assert.Equal(SignatureStatus.Done, await inner.GetStatusAsync());
        Assert.Equal(inner.Id, (await charge.GetInfoAsync()).ParentId);
        Assert.Equal(outer.Id, (await inner.GetInfoAsync()).ParentId);
    }

    [Fact]
    public async Task Adding_to_a_canceled_swarm_throws_SwarmClosedException_naming_it()
    {
        var (cluster, _) = await StartAsync(workers: 0);
        await using var _ = cluster;
        var mage = cluster.Client;
        var swarm = await mage.SwarmAsync();
        await swarm.CancelAsync();
        var item = await mage.AsignAsync(Shop.ProcessOrder);

        var error = await Assert.ThrowsAsync<SwarmClosedException>(() => swarm.AddAsync(item));

        Assert.Equal(swarm.Id, error.SwarmId);
        Assert.Contains("Canceled", error.Message);
        Assert.Null((await item.GetInfoAsync()).ParentId); // nothing was added
        Assert.Equal(new SwarmOptions(), (await swarm.GetInfoAsync()).Swarm!.Options); // the defaults, as stored
        Assert.Equal((30, null, null, true), (swarm.Options.MaxConcurrency, swarm.Options.StopAfterFailures, swarm.Options.MaxTasks, swarm.Options.CloseOnMaxTasks));
    }

    [Fact]
    public async Task SwarmResults_of_a_value_type_read_a_failed_items_result_as_its_default()
    {
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var measures = await mage.AsignAsync(Shop.SummarizeMeasures);
        var swarm = await mage.SwarmAsync<double>(successCallbacks: [measures]);
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.Measure), Order("m-ok", 2.5m));
        await swarm.RunInSwarmAsync(await mage.AsignAsync<OrderMessage>(Shop.Measure), Order("m-nan", -1m)); // NaN: fails as InvalidResult
        await swarm.CloseAsync();

        var outcomes = ((MeasuresMessage)(await shop.Recorder.WaitForAsync(Shop.SummarizeMeasures, 1))[0].Message!).Outcomes!.Items;

        Assert.Equal(2, outcomes.Count);
        Assert.Equal(2.5, Assert.Single(outcomes, o => o.Succeeded).Result);
        var failed = Assert.Single(outcomes, o => !o.Succeeded);
        Assert.Equal(0d, failed.Result);
        Assert.Contains("Task 'measure': its result", failed.Error);
    }
}
