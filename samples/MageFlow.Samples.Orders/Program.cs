// The MageFlow sample: typed builders, bound kwargs, success callbacks (with [ReturnValue] and with the
// mageflow_results fallback), retries ending in an error callback, signing by name, run-and-wait, the
// lifecycle (suspend, interrupt, resume, cancel), the read side, a chain and a swarm.
// Runs on the in-memory backend; pass --redis host:port to use Redis. --verbose shows the worker's logs.
using System.Text.Json;
using MageFlow;
using MageFlow.Samples.Orders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var redis = ArgValue(args, "--redis");
var verbose = args.Contains("--verbose");

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Critical);
builder.Services.AddSingleton<Story>().AddSingleton<PaymentGateway>();
builder.Services.AddMageFlow(o =>
{
    if (redis is null) o.UseInMemory();
    else o.UseRedis(redis, r => r.KeyPrefix = $"mf-sample-{Guid.NewGuid():N}"[..20]);
});
builder.Services.AddMageFlowWorker();

using var host = builder.Build();
await host.StartAsync();
var mage = host.Services.GetRequiredService<IMageFlow>();
var story = host.Services.GetRequiredService<Story>();
Console.WriteLine($"MageFlow sample — orders, on the {(redis is null ? "in-memory backend" : $"Redis backend at {redis}")}");

story.Step("1. Sign the callbacks with typed builders; each named argument is a bound kwarg.");
var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
var audit = await Audit.AsignAsync(mage, source: "checkout");
var notify = await NotifyFailure.AsignAsync(mage, channel: "email");
Console.WriteLine($"    send-confirmation {confirm.Id}: the receipt goes into its [ReturnValue] member '{confirm.ReturnField}'");
Console.WriteLine($"    audit             {audit.Id}: no [ReturnValue], so the receipt goes into '{audit.ReturnField}'");
Console.WriteLine($"    notify-failure    {notify.Id}: bound channel 'email'");

story.Step("2. Sign process-order with both success callbacks and the error callback, then bind a kwarg later.");
var order = await ProcessOrder.AsignAsync(mage, successCallbacks: [confirm, audit], errorCallbacks: [notify]);
await order.Kwargs.UpdateAsync(priority: "high");
Console.WriteLine($"    process-order {order.Id}: Kwargs.UpdateAsync(priority: \"high\") persisted; status {await order.GetStatusAsync()}");

story.Step("3. Run order o-1 (it succeeds): both success callbacks receive the receipt.");
await order.RunAsync(new OrderMessage("o-1", 12.50m));
var ok = await story.WaitForArrivalsAsync(2, TimeSpan.FromSeconds(30));
Console.WriteLine($"    process-order is {await order.GetStatusAsync()}");

story.Step($"4. The checkout (Checkout.cs, the application's code that its tests check) places order {PaymentGateway.DeclinedOrder}; the card is declined: 3 attempts, then the error callback gets the order plus its channel.");
var checkout = new Checkout(mage);
var declined = await checkout.PlaceOrderAsync(new OrderMessage(PaymentGateway.DeclinedOrder, 99m, Priority: "low"));
ok &= await story.WaitForArrivalsAsync(3, TimeSpan.FromSeconds(30));
Console.WriteLine($"    process-order is {await declined.GetStatusAsync()}; its success callback never ran");

story.Step("5. Sign by name (no types at hand): the registered task decides the message type.");
var byName = await mage.AsignAsync("send-confirmation", new { template = "by-name" });
var third = await ProcessOrder.AsignAsync(mage, successCallbacks: [byName]);
await third.RunAsync(new OrderMessage("o-3", 5m));
ok &= await story.WaitForArrivalsAsync(4, TimeSpan.FromSeconds(30));

// Every wait below has a deadline, so a broken run ends with an error instead of hanging.
var patience = TimeSpan.FromSeconds(30);

story.Step("6. Run and wait: RunAndWaitAsync dispatches like RunAsync and returns the typed result once the signature finishes.");
var awaited = await ProcessOrder.AsignAsync(mage);
OrderReceipt receipt = await awaited.RunAndWaitAsync(new OrderMessage("o-4", 20m), patience);
Console.WriteLine($"    RunAndWaitAsync returned an OrderReceipt: {receipt.OrderId} charged {receipt.Charged:0.00}");
var awaitedDeclined = await ProcessOrder.AsignAsync(mage);
try
{
    await awaitedDeclined.RunAndWaitAsync(new OrderMessage(PaymentGateway.DeclinedOrder, 45m), patience);
    Console.Error.WriteLine("    The declined order succeeded: expected MageTaskFailedException.");
    ok = false;
}
catch (MageTaskFailedException ex)
{
    Console.WriteLine($"    MageTaskFailedException: {ex.TaskName} {ex.SignatureId} failed for good ({ex.Kind}): {ex.Error}");
}

story.Step("7. Suspend: a run that arrives is parked with its input, not executed; ResumeAsync dispatches it again.");
var resumedConfirm = await SendConfirmation.AsignAsync(mage, template: "resumed");
var suspended = await ProcessOrder.AsignAsync(mage, successCallbacks: [resumedConfirm]);
await suspended.SuspendAsync();
await suspended.RunAsync(new OrderMessage("o-5", 7.25m));
var parked = await WaitForInfoAsync(suspended, info => info.ParkedRuns > 0, "a parked run", patience);
Console.WriteLine($"    suspended, then ran o-5: status {parked.Status}, parked runs {parked.ParkedRuns}, attempts {parked.Attempts}");
Console.WriteLine("    ResumeAsync():");
await suspended.ResumeAsync();
ok &= await story.WaitForArrivalsAsync(5, patience);
Console.WriteLine($"    process-order is {await suspended.GetStatusAsync()}");

story.Step("8. Interrupt: as suspend, and the running body is cancelled through its CancellationToken; its run is parked, not counted as an attempt.");
var packing = await PackOrder.AsignAsync(mage);
// Waiting starts before the interrupt and goes on through it: only Done, Failed or Canceled ends it.
var packed = packing.RunAndWaitAsync(new OrderMessage("o-6", 30m), patience);
await story.WaitUntilReachedAsync(OrderTasks.PackingStarted("o-6"), patience);
await packing.InterruptAsync();
var interrupted = await WaitForInfoAsync(packing, info => info.ParkedRuns > 0, "a parked run", patience);
Console.WriteLine($"    interrupted: status {interrupted.Status}, parked runs {interrupted.ParkedRuns}, attempts {interrupted.Attempts}");
Console.WriteLine("    ResumeAsync():");
await packing.ResumeAsync();
var slip = await packed;
Console.WriteLine($"    the RunAndWaitAsync begun before the interrupt returned {slip}; pack-order is {await packing.GetStatusAsync()}");

story.Step("9. Cancel: for good. The running body is cancelled, no callback fires, the waiter gets OperationCanceledException, and resuming throws.");
var canceledNotify = await NotifyFailure.AsignAsync(mage, channel: "email");
var canceled = await PackOrder.AsignAsync(mage, errorCallbacks: [canceledNotify]);
var canceledWait = canceled.RunAndWaitAsync(new OrderMessage("o-7", 8m), patience);
await story.WaitUntilReachedAsync(OrderTasks.PackingStarted("o-7"), patience);
await canceled.CancelAsync();
await story.WaitUntilReachedAsync(OrderTasks.PackingStopped("o-7"), patience);
try
{
    await canceledWait;
    Console.Error.WriteLine("    The canceled order finished: expected OperationCanceledException.");
    ok = false;
}
catch (OperationCanceledException ex)
{
    Console.WriteLine($"    RunAndWaitAsync threw OperationCanceledException: {ex.Message}");
}
try
{
    await canceled.ResumeAsync();
    Console.Error.WriteLine("    ResumeAsync of a canceled signature did not throw.");
    ok = false;
}
catch (InvalidOperationException ex)
{
    Console.WriteLine($"    ResumeAsync threw InvalidOperationException: {ex.Message}");
}
Console.WriteLine($"    pack-order is still {await canceled.GetStatusAsync()}");

story.Step("10. The read side: ListSignaturesAsync finds stored signatures by status and task (it scans: for operators, not the hot path).");
var countsByStatus = new SortedDictionary<SignatureStatus, int>();
await foreach (var info in mage.ListSignaturesAsync())
    countsByStatus[info.Status] = countsByStatus.GetValueOrDefault(info.Status) + 1;
Console.WriteLine($"    every signature of this run: {string.Join(", ", countsByStatus.Select(pair => $"{pair.Value} {pair.Key}"))}");
Console.WriteLine("    (the Pending ones are callbacks whose turn never came: released, they expire with the done TTL)");
var failedOrders = new List<SignatureInfo>();
await foreach (var info in mage.ListSignaturesAsync(new SignatureQuery { Status = SignatureStatus.Failed, TaskName = ProcessOrder.TaskName }))
    failedOrders.Add(info);
foreach (var info in failedOrders.OrderBy(info => info.CreatedAt))
    Console.WriteLine($"    Failed process-order {info.Id}: {info.Attempts} attempts, {info.Failure?.Error}");

story.Step("11. A chain: validate-order → charge-order → ship-order. Each step's result lands in the next step's [ReturnValue] member; the chain's kwargs reach every step.");
var shipped = await ConfirmShipment.AsignAsync(mage, template: "shipped");
var validate = await ValidateOrder.AsignAsync(mage);
var charge = await ChargeOrder.AsignAsync(mage);
var ship = await ShipOrder.AsignAsync(mage);
var fulfilment = await mage.ChainAsync([validate, charge, ship], successCallbacks: [shipped], kwargs: new { carrier = "ups" });
Console.WriteLine($"    chain {fulfilment.Id}: {validate} → {charge} → {ship}, kwargs carrier 'ups'");
// A chain is not typed by its steps: RunAndWaitAsync returns the last step's result as JSON.
var lastResult = await fulfilment.RunAndWaitAsync(new OrderMessage("o-8", 42m), patience);
ok &= await story.WaitForArrivalsAsync(6, patience);
var shipment = lastResult.Deserialize<Shipment>(mage.JsonOptions);
Console.WriteLine($"    RunAndWaitAsync on the chain returned the last step's result: {shipment}");
Console.WriteLine($"    chain is {await fulfilment.GetStatusAsync()}; steps {await validate.GetStatusAsync()}, {await charge.GetStatusAsync()}, {await ship.GetStatusAsync()}");

story.Step("12. A swarm: the checkout charges a batch of orders, at most 2 at once; once it is closed and every item has finished, the summary callback gets every outcome.");
OrderMessage[] batchOrders = [new("o-9", 10m), new("o-10", 20m), new(PaymentGateway.DeclinedOrder, 30m), new("o-11", 40m), new("o-12", 50m)];
var batch = await checkout.ChargeBatchAsync("b-7", batchOrders, maxConcurrency: 2);
ok &= await story.WaitForArrivalsAsync(7, patience);
var batchInfo = await batch.GetInfoAsync();
var progress = batchInfo.Swarm!;
Console.WriteLine($"    swarm is {batchInfo.Status}: {progress.Added} added, {progress.Succeeded} succeeded, {progress.Failed} failed, {progress.Running} running");
// Every earlier scene charged one order at a time, so the gateway's peak is the swarm's.
var mostAtOnce = host.Services.GetRequiredService<PaymentGateway>().MostAtOnce;
Console.WriteLine($"    the gateway never had more than {mostAtOnce} charges in flight at once (MaxConcurrency {batch.Options.MaxConcurrency})");
if (mostAtOnce > batch.Options.MaxConcurrency)
{
    Console.Error.WriteLine($"    {mostAtOnce} charges ran at once: expected at most {batch.Options.MaxConcurrency}.");
    ok = false;
}

await host.StopAsync();

string[] expected = ["send-confirmation", "audit", "notify-failure", "send-confirmation", "send-confirmation", "confirm-shipment", "summarize-batch"];
var arrived = story.Arrivals;
var allArrived = ok && expected.Order().SequenceEqual(arrived.Order());
Console.WriteLine();
if (allArrived)
{
    Console.WriteLine($"Done: all {expected.Length} expected callbacks arrived, each exactly once.");
    return 0;
}
Console.Error.WriteLine($"A scene went wrong (see above) or not every expected callback arrived: expected [{string.Join(", ", expected)}], got [{string.Join(", ", arrived)}]. Run with --verbose to see the worker's log.");
return 1;

// Lifecycle changes wake no one: read the stored state until it shows what the scene waits for.
static async Task<SignatureInfo> WaitForInfoAsync(TaskSignature signature, Func<SignatureInfo, bool> condition, string what, TimeSpan timeout)
{
    var deadline = DateTime.UtcNow + timeout;
    while (true)
    {
        var info = await signature.GetInfoAsync();
        if (condition(info)) return info;
        if (DateTime.UtcNow >= deadline)
            throw new TimeoutException($"Waited {timeout.TotalSeconds:0} s for {what} on {signature}; it is {info.Status}. Run with --verbose to see the worker's log.");
        await Task.Delay(TimeSpan.FromMilliseconds(20));
    }
}

static string? ArgValue(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    if (index < 0) return null;
    if (index + 1 >= args.Length) throw new ArgumentException($"{name} needs a value, e.g. {name} 127.0.0.1:6379");
    return args[index + 1];
}
