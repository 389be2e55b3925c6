using MageFlow.Backends;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MageFlow.Health;

/// <summary>
/// <see cref="MageFlowHealthCheckNames.Queues"/>: the oldest entry not yet finished across the queues this process
/// serves, and on a store of several partitions the oldest message between partitions not applied yet. Degraded, not
/// Unhealthy: the process itself works, there is too little capacity (or none) for a task.
/// </summary>
internal sealed class QueueHealthCheck(IMageBackend backend, IReadOnlyList<string> taskNames, TimeSpan maxQueueAge, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (taskNames.Count == 0) return HealthCheckResult.Healthy("No task queue to watch.");
        IReadOnlyDictionary<string, DateTimeOffset> oldest;
        DateTimeOffset? unforwarded;
        try
        {
            oldest = await backend.GetOldestUnacknowledgedAsync(taskNames, cancellationToken).ConfigureAwait(false);
            unforwarded = await backend.GetOldestUnforwardedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Cannot read the queues of {backend.StoreId}: {ex.Message}", ex);
        }

        var now = time.GetUtcNow();
        // Redis stamps entries with its own clock: a skew with this machine's must not make an age negative.
        TimeSpan AgeOf(DateTimeOffset at) => now - at > TimeSpan.Zero ? now - at : TimeSpan.Zero;
        var ages = oldest
            .Select(pair => (Task: pair.Key, Age: AgeOf(pair.Value)))
            .OrderByDescending(entry => entry.Age)
            .ThenBy(entry => entry.Task, StringComparer.Ordinal)
            .ToArray();
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["maxQueueAgeSeconds"] = maxQueueAge.TotalSeconds };
        foreach (var (task, age) in ages) data[$"age:{task}"] = age.TotalSeconds;
        // A message between partitions waiting too long degrades the check whatever the queues say.
        string? late = null;
        if (unforwarded is { } writtenAt)
        {
            var age = AgeOf(writtenAt);
            data["unforwardedAgeSeconds"] = age.TotalSeconds;
            if (age > maxQueueAge)
                late = $"A message between the store's partitions has waited {HealthText.Duration(age)} without being applied, over the limit of {HealthText.Duration(maxQueueAge)}: no worker runs, or applying it keeps failing (the workers log why).";
        }

        if (ages.Length == 0) return Verdict(late, $"No entry waits in the {taskNames.Count} queue(s).", queuesLate: false, data);
        var (oldestTask, oldestAge) = ages[0];
        data["oldestAgeSeconds"] = oldestAge.TotalSeconds;
        data["oldestTask"] = oldestTask;
        if (oldestAge <= maxQueueAge)
            return Verdict(late, $"The oldest unfinished entry, of task '{oldestTask}', was queued {HealthText.Duration(oldestAge)} ago.", queuesLate: false, data);
        var othersOver = ages.Skip(1).Where(entry => entry.Age > maxQueueAge).Select(entry => $"'{entry.Task}'").ToArray();
        var others = othersOver.Length > 0 ? $" Also over the limit: {string.Join(", ", othersOver)}." : "";
        return Verdict(late,
            $"An entry of task '{oldestTask}' has waited {HealthText.Duration(oldestAge)} without being finished, over the limit of {HealthText.Duration(maxQueueAge)}: no worker serves the task, or too few.{others}",
            queuesLate: true, data);
    }

    /// <summary>Degraded when the queues or the partitions' messages are late; what is late is said first (the queues when both are).</summary>
    private static HealthCheckResult Verdict(string? late, string queues, bool queuesLate, Dictionary<string, object> data) => (late, queuesLate) switch
    {
        (null, false) => HealthCheckResult.Healthy(queues, data),
        (null, true) => HealthCheckResult.Degraded(queues, data: data),
        (_, false) => HealthCheckResult.Degraded($"{late} {queues}", data: data),
        (_, true) => HealthCheckResult.Degraded($"{queues} {late}", data: data),
    };
}
