namespace MageFlow;

/// <summary>How a swarm runs its items (contract §7).</summary>
public sealed record SwarmOptions
{
    /// <summary>The most items running at once, across every worker. Default 30.</summary>
    public int MaxConcurrency { get; init; } = 30;

    /// <summary>Fail the swarm once this many items have failed; null tolerates every failure.</summary>
    public int? StopAfterFailures { get; init; }

    /// <summary>The most items the swarm takes; null for no limit.</summary>
    public int? MaxTasks { get; init; }

    /// <summary>Whether the add that reaches <see cref="MaxTasks"/> closes the swarm. Default true.</summary>
    public bool CloseOnMaxTasks { get; init; } = true;

    internal void Validate()
    {
        if (MaxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, "SwarmOptions.MaxConcurrency must be at least 1.");
        if (StopAfterFailures is < 1) throw new ArgumentOutOfRangeException(nameof(StopAfterFailures), StopAfterFailures, "SwarmOptions.StopAfterFailures must be at least 1, or null to tolerate every failure.");
        if (MaxTasks is < 1) throw new ArgumentOutOfRangeException(nameof(MaxTasks), MaxTasks, "SwarmOptions.MaxTasks must be at least 1, or null for no limit.");
    }
}

/// <summary>
/// What a success callback of a swarm receives when its return member has this type: every item's outcome, in
/// completion order (otherwise it receives the results of the items that succeeded, as a list).
/// </summary>
public sealed record SwarmResults<T>(IReadOnlyList<SwarmItemResult<T>> Items);

/// <summary>One item's outcome in <see cref="SwarmResults{T}"/>; a failed item has no result (the default of <typeparamref name="T"/>) and an error.</summary>
public sealed record SwarmItemResult<T>(string SignatureId, bool Succeeded, T? Result = default, string? Error = null);

/// <summary>Adding would take the swarm past <see cref="SwarmOptions.MaxTasks"/>; nothing was added.</summary>
public sealed class SwarmFullException(string swarmId, int maxTasks, int added, int adding)
    : InvalidOperationException($"Swarm {swarmId} is full: it holds {added} of at most {maxTasks} items (SwarmOptions.MaxTasks), so {adding} more cannot be added; nothing was added.")
{
    /// <summary>The full swarm.</summary>
    public string SwarmId { get; } = swarmId;
}

/// <summary>The swarm takes no more items: it was closed, or it failed or was canceled.</summary>
public sealed class SwarmClosedException(string swarmId, string why)
    : InvalidOperationException($"Swarm {swarmId} takes no more items: {why}.")
{
    /// <summary>The swarm that takes no more items.</summary>
    public string SwarmId { get; } = swarmId;
}
