// The MageFlow sample: typed builders, bound kwargs, success callbacks (with [ReturnValue] and with the
// mageflow_results fallback), retries ending in an error callback, and signing by name.
// Runs on the in-memory backend; pass --redis host:port to use Redis. --verbose shows the worker's logs.
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

story.Step($"4. Run order {PaymentGateway.DeclinedOrder} (the card is declined): 3 attempts, then the error callback gets the order plus its channel.");
var declinedNotify = await NotifyFailure.AsignAsync(mage, channel: "email");
var declinedConfirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
var declined = await ProcessOrder.AsignAsync(mage, priority: "low", successCallbacks: [declinedConfirm], errorCallbacks: [declinedNotify]);
await declined.RunAsync(new OrderMessage(PaymentGateway.DeclinedOrder, 99m));
ok &= await story.WaitForArrivalsAsync(3, TimeSpan.FromSeconds(30));
Console.WriteLine($"    process-order is {await declined.GetStatusAsync()}; its success callback never ran");

story.Step("5. Sign by name (no types at hand): the registered task decides the message type.");
var byName = await mage.AsignAsync("send-confirmation", new { template = "by-name" });
var third = await ProcessOrder.AsignAsync(mage, successCallbacks: [byName]);
await third.RunAsync(new OrderMessage("o-3", 5m));
ok &= await story.WaitForArrivalsAsync(4, TimeSpan.FromSeconds(30));

await host.StopAsync();

string[] expected = ["send-confirmation", "audit", "notify-failure", "send-confirmation"];
var arrived = story.Arrivals;
var allArrived = ok && expected.Order().SequenceEqual(arrived.Order());
Console.WriteLine();
if (allArrived)
{
    Console.WriteLine($"Done: all {expected.Length} expected callbacks arrived, each exactly once.");
    return 0;
}
Console.Error.WriteLine($"Not every expected callback arrived: expected [{string.Join(", ", expected)}], got [{string.Join(", ", arrived)}]. Run with --verbose to see the worker's log.");
return 1;

static string? ArgValue(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    if (index < 0) return null;
    if (index + 1 >= args.Length) throw new ArgumentException($"{name} needs a value, e.g. {name} 127.0.0.1:6379");
    return args[index + 1];
}
