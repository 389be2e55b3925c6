// The reliability worker: a generic host running MageFlow tasks on Redis, configured from the command line,
// started, SIGKILLed, SIGTERMed and restarted as a real child process by tests/MageFlow.Reliability.Tests.
//
//   dotnet MageFlow.Reliability.Worker.dll --redis 127.0.0.1:6390 --prefix p1 [--tasks work,on-done]
//     [--visibility-ms 1500] [--max-stalls 3] [--done-ttl-ms 300000] [--concurrency 128]
//     [--active-ttl-ms 86400000] [--retry-delay-ms 50] [--read-wait-ms 200] [--shutdown-ms 5000] [--parent-pid N]
//
// Prints "READY <pid>" on stdout once the host has started (and every MageFlow hosted service with it).
using MageFlow;
using MageFlow.Reliability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

var options = ParseArguments(args);
string Get(string name, string fallback) => options.TryGetValue(name, out var value) ? value : fallback;
int GetInt(string name, int fallback) => options.TryGetValue(name, out var value) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;

var redis = Get("redis", "127.0.0.1:6379");
var prefix = Get("prefix", "mf");
var tasks = options.TryGetValue("tasks", out var list) ? list.Split(',', StringSplitOptions.RemoveEmptyEntries) : null;

// The recorder's own connection, opened on first use: the host must meet Redis (or its absence) first.
var recordConfig = ConfigurationOptions.Parse(redis);
recordConfig.AbortOnConnectFail = false;
recordConfig.ConnectTimeout = 1000;
var recorder = new Recorder(() => ConnectionMultiplexer.ConnectAsync(recordConfig), prefix);

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = false });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Logging.AddFilter(level => level >= LogLevel.Warning);
// Console logs go to stderr so stdout carries only the READY line.
builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(GetInt("shutdown-ms", 5000)));
builder.Services.AddMageFlow(o =>
{
    o.UseRedis(redis, r => { r.KeyPrefix = prefix; r.Partitions = GetInt("partitions", 1); });
    o.IncludeGeneratedTasks = false;
    o.DoneTtl = TimeSpan.FromMilliseconds(GetInt("done-ttl-ms", 300_000));
    o.ActiveTtl = TimeSpan.FromMilliseconds(GetInt("active-ttl-ms", 24 * 3600 * 1000));
    foreach (var descriptor in ReliabilityTasks.All(recorder)) o.AddTask(descriptor);
});
builder.Services.AddMageFlowWorker(o =>
{
    o.VisibilityTimeout = TimeSpan.FromMilliseconds(GetInt("visibility-ms", 1500));
    o.MaxStalls = GetInt("max-stalls", 3);
    o.Concurrency = GetInt("concurrency", 128);
    o.RetryDelay = TimeSpan.FromMilliseconds(GetInt("retry-delay-ms", 50));
    o.ReadWait = TimeSpan.FromMilliseconds(GetInt("read-wait-ms", 200));
    if (tasks is not null) o.Tasks = tasks;
});

using var host = builder.Build();
var parentPid = GetInt("parent-pid", 0);
if (parentPid > 0) _ = WatchParentAsync(parentPid);

await host.StartAsync();
Console.Out.WriteLine($"READY {Environment.ProcessId}");
Console.Out.Flush();
await host.WaitForShutdownAsync();
return 0;

static Dictionary<string, string> ParseArguments(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            throw new ArgumentException($"Unexpected argument '{args[i]}': use --name value pairs.");
        result[args[i][2..]] = args[++i];
    }
    return result;
}

// Exits when the test process is gone, so a crashed test run leaves no worker behind.
static async Task WatchParentAsync(int parentPid)
{
    while (true)
    {
        await Task.Delay(1000);
        bool alive;
        try
        {
            using var parent = System.Diagnostics.Process.GetProcessById(parentPid);
            alive = !parent.HasExited;
        }
        catch (ArgumentException)
        {
            alive = false;
        }
        if (!alive) Environment.Exit(3);
    }
}
