// Several processes, one Redis: run any number of workers (on any machines that reach the Redis) and
// producers that only sign and dispatch.
//
//   dotnet run --project samples/MageFlow.Samples.Worker -- worker              # terminal 1..n
//   dotnet run --project samples/MageFlow.Samples.Worker -- produce --count 20  # another terminal
//
// Options come from appsettings.json (section "MageFlow"), overridable by environment variables such as
// MageFlow__Redis=10.0.0.5:6379 or MageFlow__Worker__Concurrency=64.
using MageFlow;
using MageFlow.Samples.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var mode = args.FirstOrDefault();
if (mode is not ("worker" or "produce"))
{
    Console.Error.WriteLine("usage: MageFlow.Samples.Worker worker | produce [--count N]");
    return 2;
}

var builder = Host.CreateApplicationBuilder(args);
var section = builder.Configuration.GetSection("MageFlow");
builder.Services.AddMageFlow(o =>
{
    o.UseRedis(section["Redis"] ?? "127.0.0.1:6379", r => r.KeyPrefix = section["KeyPrefix"] ?? "mf");
    o.DoneTtl = section.GetValue("DoneTtl", o.DoneTtl);
});
if (mode == "worker")
{
    builder.Services.AddMageFlowWorker(o => section.GetSection("Worker").Bind(o));
    using var workerHost = builder.Build();
    Console.WriteLine("worker running; Ctrl+C stops it (runs in flight finish first, or are reclaimed by another worker)");
    await workerHost.RunAsync();
    return 0;
}

using var host = builder.Build();
await host.StartAsync();
var mage = host.Services.GetRequiredService<IMageFlow>();
var count = int.TryParse(ArgValue("--count"), out var n) ? n : 10;
for (var i = 0; i < count; i++)
{
    var publish = await Publish.AsignAsync(mage, gallery: "summer");
    var report = await ReportResizeFailure.AsignAsync(mage, team: "media");
    // every fifth image has an invalid width, to show the error path
    var resize = await Resize.AsignAsync(mage, format: "avif", successCallbacks: [publish], errorCallbacks: [report]);
    await resize.RunAsync(new ResizeImage($"img-{i}", i % 5 == 4 ? 0 : 800));
}
Console.WriteLine($"dispatched {count} resize tasks; the workers print what they publish");
await host.StopAsync();
return 0;

string? ArgValue(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
