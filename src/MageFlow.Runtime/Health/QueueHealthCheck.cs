using MageFlow.Backends;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MageFlow.Health;

/// <summary>
/// <see cref="MageFlowHealthCheckNames.Queues"/>: the oldest entry not yet finished across the queues this process
/// serves. Degraded, not Unhealthy: the process itself works, there is too little capacity (or none) for a task.
/// </summary>
internal sealed class QueueHealthCheck(IMageBackend backend, IReadOnlyList<string> taskNames, TimeSpan maxQueueAge, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (taskNames.Count == 0) return HealthCheckResult.Healthy("No task queue to watch.");
        IReadOnlyDictionary<string, DateTimeOffset> oldest;
        try
        {
            oldest = await backend.GetOldestUnacknowledgedAsync(taskNames, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Cannot read the queues of {backend.StoreId}: {ex.Message}", ex);
        }

        var now = time.GetUtcNow();
        // Redis stamps entries with its own clock: a skew with this machine's must not make an age negative.
        var ages = oldest
            .Select(pair => (Task: pair.Key, Age: now - pair.Value > TimeSpan.Zero ? now - pair.Value : TimeSpan.Zero))
            .OrderByDescending(entry => entry.Age)
            .ThenBy(entry => entry.Task, StringComparer.Ordinal)
            .ToArray();
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["maxQueueAgeSeconds"] = maxQueueAge.TotalSeconds };
        foreach (var (task, age) in ages) data[$"age:{task}"] = age.TotalSeconds;
        if (ages.Length == 0) return HealthCheckResult.Healthy($"No entry waits in the {taskNames.Count} queue(s).", data);

        var (oldestTask, oldestAge) = ages[0];
        data["oldestAgeSeconds"] = oldestAge.TotalSeconds;
        data["oldestTask"] = oldestTask;
        if (oldestAge <= maxQueueAge)
            return HealthCheckResult.Healthy($"The oldest unfinished entry, of task '{oldestTask}', was queued {HealthText.Duration(oldestAge)} ago.", data);
        var othersOver = ages.Skip(1).Where(entry => entry.Age > maxQueueAge).Select(entry => $"'{entry.Task}'").ToArray();
        var others = othersOver.Length > 0 ? $" Also over the limit: {string.Join(", ", othersOver)}." : "";
        return HealthCheckResult.Degraded(
            $"An entry of task '{oldestTask}' has waited {HealthText.Duration(oldestAge)} without being finished, over the limit of {HealthText.Duration(maxQueueAge)}: no worker serves the task, or too few.{others}",
            data: data);
    }
}
