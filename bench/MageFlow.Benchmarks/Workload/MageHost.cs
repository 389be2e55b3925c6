using MageFlow.Backends;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MageFlow.Benchmarks.Workload;

/// <summary>A generic host with AddMageFlow (and optionally AddMageFlowWorker), as an application would have.</summary>
internal static class MageHost
{
    public static async Task<IHost> StartAsync(
        MageBackendChoice backend,
        BenchWorkload workload,
        bool withWorker,
        Func<IMageBackend, bool, IMageBackend>? wrapBackend = null,
        Action<MageWorkerOptions>? configureWorker = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddMageFlow(o =>
        {
            backend.Configure(o);
            workload.Register(o);
        });
        if (withWorker) builder.Services.AddMageFlowWorker(configureWorker);
        if (wrapBackend is not null) Wrap(builder.Services, wrapBackend);
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return host;
    }

    public static async Task StopAsync(IHost host)
    {
        await host.StopAsync().ConfigureAwait(false);
        if (host is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        else host.Dispose();
    }

    /// <summary>Replaces the backend registration with a wrapper around it (measurement only).</summary>
    private static void Wrap(IServiceCollection services, Func<IMageBackend, bool, IMageBackend> wrap)
    {
        var original = services.Last(d => d.ServiceType == typeof(IMageBackend));
        services.Remove(original);
        services.AddSingleton<IMageBackend>(sp =>
        {
            // An instance registration is shared and owned elsewhere; a factory's product is ours to dispose.
            if (original.ImplementationInstance is IMageBackend shared) return wrap(shared, false);
            return wrap((IMageBackend)original.ImplementationFactory!(sp), true);
        });
    }
}
