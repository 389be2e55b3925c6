using MageFlow.Runtime.Tests.Contract;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace MageFlow.Runtime.Tests.Health;

/// <summary>
/// AddMageFlowHealthChecks through a real HealthCheckService, on each backend (<see cref="InMemoryHealthCheckTests"/>,
/// <see cref="RedisHealthCheckTests"/>): each host is a generic host with AddMageFlow, optionally a worker, and the checks.
/// </summary>
public abstract class HealthCheckTests : IAsyncLifetime
{
    private readonly List<IHost> _hosts = [];

    private protected Shop Shop { get; } = new();

    /// <summary>Points a client at this backend; every host of one test must reach the same storage.</summary>
    protected abstract Action<MageFlowOptions> UseBackend();

    private protected async Task<IHost> StartHostAsync(bool withWorker, Action<MageFlowHealthCheckOptions>? health = null, Action<MageFlowOptions>? backend = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMageFlow(o =>
        {
            o.IncludeGeneratedTasks = false;
            (backend ?? UseBackend())(o);
            Shop.Register(o);
        });
        if (withWorker) builder.Services.AddMageFlowWorker(o => o.ReadWait = TimeSpan.FromMilliseconds(200));
        builder.Services.AddHealthChecks().AddMageFlowHealthChecks(health);
        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    private protected static Task<HealthReport> CheckAsync(IHost host) =>
        host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    /// <summary>Checks until <paramref name="until"/> holds for the named entry, or the deadline passes; returns that entry.</summary>
    private protected static async Task<HealthReportEntry> CheckUntilAsync(IHost host, string check, Func<HealthReportEntry, bool> until, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var entry = (await CheckAsync(host)).Entries[check];
            if (until(entry) || DateTime.UtcNow > deadline) return entry;
            await Task.Delay(50);
        }
    }

    private protected static string NewOrderId(string prefix) => $"{prefix}{Guid.NewGuid():N}";

    [Fact]
    public async Task Every_check_is_healthy_in_a_host_whose_worker_runs_tasks()
    {
        var host = await StartHostAsync(withWorker: true);
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var order = await mage.AsignAsync(Shop.ProcessOrder);
        await order.RunAsync(new OrderMessage(NewOrderId("o-"), 1m));
        await Shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);

        await CheckUntilAsync(host, MageFlowHealthCheckNames.Worker, entry => entry.Status == HealthStatus.Healthy);
        var report = await CheckAsync(host);

        Assert.Equal(
            [MageFlowHealthCheckNames.Queues, MageFlowHealthCheckNames.Store, MageFlowHealthCheckNames.Worker],
            report.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.All(report.Entries.Values, entry =>
        {
            Assert.True(entry.Status == HealthStatus.Healthy, entry.Description);
            Assert.Equal(["mageflow"], entry.Tags);
        });
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Contains("6 loops are running", report.Entries[MageFlowHealthCheckNames.Worker].Description, StringComparison.Ordinal);
        Assert.Equal(host.Services.GetRequiredService<Backends.IMageBackend>().StoreId, report.Entries[MageFlowHealthCheckNames.Store].Data["store"]);
    }

    [Fact]
    public async Task Worker_check_is_unhealthy_once_the_worker_has_stopped()
    {
        var host = await StartHostAsync(withWorker: true);
        var running = await CheckUntilAsync(host, MageFlowHealthCheckNames.Worker, entry => entry.Status == HealthStatus.Healthy);
        Assert.True(running.Status == HealthStatus.Healthy, running.Description);

        await host.StopAsync();

        var stopped = (await CheckAsync(host)).Entries[MageFlowHealthCheckNames.Worker];
        Assert.Equal(HealthStatus.Unhealthy, stopped.Status);
        Assert.Equal("The worker has stopped.", stopped.Description);
    }

    [Fact]
    public async Task Worker_check_is_healthy_in_a_process_without_a_worker()
    {
        var host = await StartHostAsync(withWorker: false);

        var entry = (await CheckAsync(host)).Entries[MageFlowHealthCheckNames.Worker];

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("No worker in this process.", entry.Description);
    }

    [Fact]
    public async Task Queues_check_is_degraded_when_an_entry_no_worker_serves_waits_longer_than_MaxQueueAge()
    {
        var maxQueueAge = TimeSpan.FromSeconds(3);
        var host = await StartHostAsync(withWorker: false, o => o.MaxQueueAge = maxQueueAge);
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var idle = (await CheckAsync(host)).Entries[MageFlowHealthCheckNames.Queues];
        Assert.Equal(HealthStatus.Healthy, idle.Status);
        Assert.False(idle.Data.ContainsKey("oldestTask"), idle.Description);

        var queuedAt = DateTime.UtcNow;
        await (await mage.AsignAsync(Shop.ProcessOrder)).RunAsync(new OrderMessage(NewOrderId("o-"), 1m));

        // Alive first: the fresh entry is seen, and it is young enough.
        var fresh = (await CheckAsync(host)).Entries[MageFlowHealthCheckNames.Queues];
        Assert.True(DateTime.UtcNow - queuedAt < maxQueueAge, "the machine was too slow to check a fresh entry");
        Assert.True(fresh.Status == HealthStatus.Healthy, fresh.Description);
        Assert.Equal(Shop.ProcessOrder, fresh.Data["oldestTask"]);
        Assert.InRange((double)fresh.Data["oldestAgeSeconds"], 0, maxQueueAge.TotalSeconds);

        var late = await CheckUntilAsync(host, MageFlowHealthCheckNames.Queues, entry => entry.Status != HealthStatus.Healthy);

        Assert.True(late.Status == HealthStatus.Degraded, late.Description);
        Assert.Contains($"task '{Shop.ProcessOrder}' has waited", late.Description, StringComparison.Ordinal);
        Assert.True((double)late.Data["oldestAgeSeconds"] > maxQueueAge.TotalSeconds);
    }

    [Fact]
    public async Task Queues_check_counts_an_entry_a_worker_holds_until_it_is_finished()
    {
        var host = await StartHostAsync(withWorker: true, o => o.MaxQueueAge = TimeSpan.FromSeconds(1));
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var id = NewOrderId("gate-");
        await (await mage.AsignAsync(Shop.ProcessOrder)).RunAsync(new OrderMessage(id, 1m));
        await Shop.Recorder.WaitForAsync(Shop.ProcessOrder, 1);

        var held = await CheckUntilAsync(host, MageFlowHealthCheckNames.Queues, entry => entry.Status != HealthStatus.Healthy);
        Assert.True(held.Status == HealthStatus.Degraded, held.Description);
        Assert.Equal(Shop.ProcessOrder, held.Data["oldestTask"]);

        Shop.Gates.Open(id);

        var finished = await CheckUntilAsync(host, MageFlowHealthCheckNames.Queues, entry => entry.Status == HealthStatus.Healthy);
        Assert.True(finished.Status == HealthStatus.Healthy, finished.Description);
        Assert.False(finished.Data.ContainsKey("oldestTask"), finished.Description);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }
    }
}
