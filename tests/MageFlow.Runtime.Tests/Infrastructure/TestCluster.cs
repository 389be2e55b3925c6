using MageFlow.Backends;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MageFlow.Runtime.Tests.Infrastructure;

/// <summary>
/// A producer client and any number of worker hosts sharing one backend, as separate processes would on
/// one Redis. Each host is a real generic host with AddMageFlow/AddMageFlowWorker.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly List<IHost> _hosts = [];
    private readonly Action<MageFlowOptions> _useBackend;
    private readonly Action<MageFlowOptions>? _configure;

    private TestCluster(Action<MageFlowOptions> useBackend, Action<MageFlowOptions>? configure)
    {
        _useBackend = useBackend;
        _configure = configure;
    }

    /// <summary>What every host logged (Information and above), for a failing test to quote.</summary>
    public BadInput.LogSink Logs { get; } = new();

    /// <summary>The producer host's client (it runs no worker).</summary>
    public IMageFlow Client { get; private set; } = null!;

    public IReadOnlyList<IHost> Hosts => _hosts;

    /// <summary>Runs in flight across every worker host.</summary>
    public int InFlight => _hosts.Sum(h => h.Services.GetService<Execution.MageWorker>()?.InFlightCount ?? 0);

    /// <summary>The backend of the producer host, for inspecting or injecting raw entries.</summary>
    internal IMageBackend Backend => _hosts[0].Services.GetRequiredService<IMageBackend>();

    public static async Task<TestCluster> StartAsync(
        Action<MageFlowOptions> useBackend,
        Action<MageFlowOptions>? configure = null,
        int workers = 1,
        Action<MageWorkerOptions>? worker = null)
    {
        var cluster = new TestCluster(useBackend, configure);
        var producer = await cluster.StartHostAsync(withWorker: false, worker: null);
        cluster.Client = producer.Services.GetRequiredService<IMageFlow>();
        for (var i = 0; i < workers; i++) await cluster.StartWorkerAsync(worker);
        return cluster;
    }

    public Task<IHost> StartWorkerAsync(Action<MageWorkerOptions>? worker = null, TimeSpan? shutdownTimeout = null) =>
        StartHostAsync(withWorker: true, worker, shutdownTimeout);

    private async Task<IHost> StartHostAsync(bool withWorker, Action<MageWorkerOptions>? worker, TimeSpan? shutdownTimeout = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(10));
        builder.Logging.AddProvider(Logs);
        builder.Services.AddMageFlow(o =>
        {
            o.IncludeGeneratedTasks = false;
            _useBackend(o);
            _configure?.Invoke(o);
        });
        if (withWorker)
            builder.Services.AddMageFlowWorker(o =>
            {
                o.RetryDelay = TimeSpan.FromMilliseconds(20);
                o.ReadWait = TimeSpan.FromMilliseconds(200);
                worker?.Invoke(o);
            });
        var host = builder.Build();
        await host.StartAsync();
        _hosts.Add(host);
        return host;
    }

    /// <summary>Stops one host; runs still going after its shutdown timeout are abandoned unacknowledged, as in a crash.</summary>
    public async Task StopAsync(IHost host)
    {
        await host.StopAsync();
        host.Dispose();
        _hosts.Remove(host);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            await host.StopAsync();
            host.Dispose();
        }
        _hosts.Clear();
    }
}
