namespace MageFlow;

/// <summary>The names under which <see cref="MageFlowHealthChecksBuilderExtensions.AddMageFlowHealthChecks"/> registers its checks.</summary>
public static class MageFlowHealthCheckNames
{
    /// <summary>The store (Redis, or the in-memory store) answers a round trip.</summary>
    public const string Store = "mageflow-store";

    /// <summary>This process's worker is running and each of its loops keeps coming round.</summary>
    public const string Worker = "mageflow-worker";

    /// <summary>No queue this process serves holds an entry older than <see cref="MageFlowHealthCheckOptions.MaxQueueAge"/> that is not finished.</summary>
    public const string Queues = "mageflow-queues";
}

/// <summary>Options of the MageFlow health checks.</summary>
public sealed class MageFlowHealthCheckOptions
{
    /// <summary>
    /// How long an entry may wait in a queue, read or not, without being finished before the queues check reports
    /// Degraded (too few workers, or none serving the task). Five minutes by default.
    /// </summary>
    public TimeSpan MaxQueueAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The tags of every MageFlow check, to select them in a health endpoint's predicate. <c>mageflow</c> by default.</summary>
    public ICollection<string> Tags { get; set; } = ["mageflow"];

    /// <summary>How long each check may take before it reports Unhealthy (a store that does not answer). Ten seconds by default.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
