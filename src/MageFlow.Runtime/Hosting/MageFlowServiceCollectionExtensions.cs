using MageFlow.Execution;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MageFlow;

/// <summary>Registers MageFlow in a host.</summary>
public static class MageFlowServiceCollectionExtensions
{
    /// <summary>
    /// Adds the MageFlow client (<see cref="IMageFlow"/>), in-memory by default. Once the host starts, the client
    /// is also the ambient <see cref="Mage.Default"/>.
    /// </summary>
    public static IServiceCollection AddMageFlow(this IServiceCollection services, Action<MageFlowOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(MageFlowOptions)))
            throw new InvalidOperationException("AddMageFlow was called twice; configure everything in one call.");

        var options = new MageFlowOptions();
        configure?.Invoke(options);
        if (options.SharedBackend is null && options.BackendFactory is null) options.UseInMemory();
        if (options.ActiveTtl <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(configure), $"MageFlowOptions.ActiveTtl must be positive, got {options.ActiveTtl}.");
        if (options.DoneTtl < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(configure), $"MageFlowOptions.DoneTtl must be zero (delete at once) or positive, got {options.DoneTtl}.");
        if (options.MaxPayloadBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(configure), $"MageFlowOptions.MaxPayloadBytes must be positive, got {options.MaxPayloadBytes}.");

        services.AddSingleton(options);
        services.TryAddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.TryAdd(ServiceDescriptor.Singleton(typeof(ILogger<>), typeof(Logger<>)));
        if (options.SharedBackend is not null) services.AddSingleton(options.SharedBackend);
        else services.AddSingleton(options.BackendFactory!);
        options.BackendServices?.Invoke(services);
        services.AddSingleton(_ =>
        {
            var registry = new MageTaskRegistry();
            if (options.IncludeGeneratedTasks)
                foreach (var descriptor in MageTaskCatalog.Snapshot()) registry.Add(descriptor);
            foreach (var descriptor in options.AddedTasks) registry.Add(descriptor);
            return registry;
        });
        services.AddSingleton<MageFlowClient>();
        services.AddSingleton<IMageFlow>(sp => sp.GetRequiredService<MageFlowClient>());
        services.AddHostedService<AmbientClientService>();
        return services;
    }

    /// <summary>
    /// Adds a worker that runs every task this client knows (every <c>[MageTask]</c> of the application, found at
    /// compile time) as a hosted service with graceful shutdown. Requires <see cref="AddMageFlow"/>.
    /// </summary>
    public static IServiceCollection AddMageFlowWorker(this IServiceCollection services, Action<MageWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new MageWorkerOptions();
        configure?.Invoke(options);
        if (options.Concurrency < 1) throw new ArgumentOutOfRangeException(nameof(configure), $"MageWorkerOptions.Concurrency must be at least 1, got {options.Concurrency}.");
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(configure), $"MageWorkerOptions.BatchSize must be at least 1, got {options.BatchSize}.");
        if (options.VisibilityTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(configure), $"MageWorkerOptions.VisibilityTimeout must be positive, got {options.VisibilityTimeout}.");
        if (options.MaxStalls < 0) throw new ArgumentOutOfRangeException(nameof(configure), $"MageWorkerOptions.MaxStalls must be 0 or more, got {options.MaxStalls}.");
        if (options.MaintenanceInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(configure), $"MageWorkerOptions.MaintenanceInterval must be positive, got {options.MaintenanceInterval}.");
        if (options.RetryDelay < TimeSpan.Zero || options.MaxRetryDelay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(configure), $"MageWorkerOptions.RetryDelay and MaxRetryDelay must be zero or positive, got {options.RetryDelay} and {options.MaxRetryDelay}.");
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<MageWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<MageWorker>());
        return services;
    }

    /// <summary>Makes the <c>[MageTask]</c>s of the library holding <typeparamref name="TMarker"/> known (one call per library).</summary>
    public static IServiceCollection AddMageFlowTasksFrom<TMarker>(this IServiceCollection services)
    {
        MageTaskCatalog.IncludeAssemblyOf<TMarker>();
        return services;
    }

    /// <summary>Sets and clears the ambient client with the host's life.</summary>
    private sealed class AmbientClientService(IMageFlow client) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            Mage.SetDefault(client);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Mage.ClearDefault(client);
            return Task.CompletedTask;
        }
    }
}
