using MageFlow.Execution;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MageFlow.Health;

/// <summary><see cref="MageFlowHealthCheckNames.Worker"/>: the worker of this process runs, and none of its loops is stuck.</summary>
internal sealed class WorkerHealthCheck(MageWorker? worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check());

    private HealthCheckResult Check()
    {
        if (worker is null) return HealthCheckResult.Healthy("No worker in this process.");
        var (phase, problem) = worker.Liveness.State;
        switch (phase)
        {
            case WorkerPhase.NotStarted:
                return HealthCheckResult.Unhealthy("The worker has not been started (the host has not started).");
            case WorkerPhase.Preparing when problem is not null:
                return HealthCheckResult.Unhealthy($"The worker cannot start: it cannot prepare its queues yet ({problem.Message}); it keeps trying.", problem);
            case WorkerPhase.Preparing:
                return HealthCheckResult.Degraded("The worker is starting.");
            case WorkerPhase.Idle:
                return HealthCheckResult.Healthy("The worker serves no task.");
            case WorkerPhase.Stopped:
                return HealthCheckResult.Unhealthy("The worker has stopped.");
            case WorkerPhase.Failed:
                return HealthCheckResult.Unhealthy($"The worker failed: {problem?.Message}", problem);
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var stuck = new List<string>();
        foreach (var loop in worker.Liveness.Loops)
        {
            var since = loop.SinceLastRound;
            data[$"loop:{loop.Name}"] = loop.WaitingForRuns ? "waiting for a free run slot" : since.TotalSeconds;
            if (!loop.WaitingForRuns && since > loop.StuckAfter)
                stuck.Add($"the {loop.Name} loop has not come round for {HealthText.Duration(since)} (bound {HealthText.Duration(loop.StuckAfter)})");
        }
        return stuck.Count > 0
            ? HealthCheckResult.Unhealthy($"The worker is stuck: {string.Join("; ", stuck)}.", data: data)
            : HealthCheckResult.Healthy($"The worker's {worker.Liveness.Loops.Count} loops are running, serving {worker.TaskNames.Count} task(s).", data);
    }
}
