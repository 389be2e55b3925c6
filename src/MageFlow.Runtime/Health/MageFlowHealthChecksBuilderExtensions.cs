using MageFlow.Backends;
using MageFlow.Execution;
using MageFlow.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MageFlow;

/// <summary>Registers MageFlow's health checks.</summary>
public static class MageFlowHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds three checks (<see cref="MageFlowHealthCheckNames"/>): the store answers; this process's worker runs and
    /// its loops keep coming round (Healthy when the process has no worker); and no queue this process serves holds
    /// an unfinished entry older than <see cref="MageFlowHealthCheckOptions.MaxQueueAge"/> (Degraded otherwise).
    /// Requires <see cref="MageFlowServiceCollectionExtensions.AddMageFlow"/>.
    /// </summary>
    public static IHealthChecksBuilder AddMageFlowHealthChecks(this IHealthChecksBuilder builder, Action<MageFlowHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new MageFlowHealthCheckOptions();
        configure?.Invoke(options);
        if (options.MaxQueueAge <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(configure), $"MageFlowHealthCheckOptions.MaxQueueAge must be positive, got {options.MaxQueueAge}.");
        if (options.Timeout <= TimeSpan.Zero && options.Timeout != System.Threading.Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(configure), $"MageFlowHealthCheckOptions.Timeout must be positive or infinite, got {options.Timeout}.");
        var tags = (options.Tags ?? []).ToArray();

        builder.Add(new HealthCheckRegistration(MageFlowHealthCheckNames.Store,
            sp => new StoreHealthCheck(BackendOf(sp)), failureStatus: null, tags, options.Timeout));
        builder.Add(new HealthCheckRegistration(MageFlowHealthCheckNames.Worker,
            sp => new WorkerHealthCheck(sp.GetService<MageWorker>()), failureStatus: null, tags, options.Timeout));
        builder.Add(new HealthCheckRegistration(MageFlowHealthCheckNames.Queues,
            sp => new QueueHealthCheck(BackendOf(sp), ServedTasks(sp), options.MaxQueueAge, TimeProvider.System), failureStatus: null, tags, options.Timeout));
        return builder;
    }

    private static IMageBackend BackendOf(IServiceProvider services) =>
        services.GetService<IMageBackend>()
        ?? throw new InvalidOperationException("The MageFlow health checks need AddMageFlow() in the same service collection.");

    /// <summary>The worker's tasks; without a worker, every task this application registers.</summary>
    private static IReadOnlyList<string> ServedTasks(IServiceProvider services) =>
        services.GetService<MageWorker>()?.TaskNames
        ?? services.GetRequiredService<MageTaskRegistry>().Tasks.Select(task => task.Name).ToArray();
}
