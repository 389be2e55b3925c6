// The MageFlow dashboard sample: a web app that seeds tasks, chains and a swarm (some done, some failed, one
// suspended, one running) and serves the dashboard at /mageflow. In-memory by default; --redis host:port for Redis.
//   dotnet run --project samples/MageFlow.Samples.Dashboard -- --urls http://127.0.0.1:5080
using MageFlow;
using MageFlow.Samples.Dashboard;

var builder = WebApplication.CreateBuilder(args);
// The sample's failures are on purpose: keep the worker's failure logs out of the console.
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information).AddFilter("MageFlow", LogLevel.Critical);
var redis = builder.Configuration["redis"];
builder.Services.AddMageFlow(o =>
{
    if (redis is null) o.UseInMemory();
    else o.UseRedis(redis, r => r.KeyPrefix = "mf-dashboard-sample");
    // Keep finished signatures for an hour (the default is 5 minutes) so there is something to look at.
    o.DoneTtl = TimeSpan.FromHours(1);
});
builder.Services.AddMageFlowWorker();
builder.Services.AddAntiforgery();
// build-report runs for an hour: on Ctrl+C the worker hands it back after this instead of the default 30 s.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));

var app = builder.Build();
app.MapGet("/", () => Results.Redirect("/mageflow"));
app.MapMageFlowDashboard("/mageflow");

await app.StartAsync();
var seeded = await SampleData.SeedAsync(app.Services.GetRequiredService<IMageFlow>());
Console.WriteLine($"Seeded five tasks, two chains and a swarm on the {(redis is null ? "in-memory backend" : $"Redis backend at {redis}")}; the declined charge is {seeded.DeclinedCharge}.");
foreach (var url in app.Urls) Console.WriteLine($"Dashboard: {url.TrimEnd('/')}/mageflow");
await app.WaitForShutdownAsync();
