using System.Security.Cryptography;

namespace MageFlow.Signatures;

/// <summary>
/// A signature as stored (semantics rule 1). Kwargs are top-level wire names with UTF-8 JSON values so a
/// backend can store and update each one on its own (rule 5) without re-encoding the others.
/// </summary>
internal sealed record SignatureRecord(
    string Id,
    string TaskName,
    string MessageTypeId,
    IReadOnlyList<KeyValuePair<string, byte[]>> Kwargs,
    IReadOnlyList<string> SuccessCallbackIds,
    IReadOnlyList<string> ErrorCallbackIds,
    SignatureStatus Status,
    SignatureStatus LastStatus,
    string ReturnField,
    DateTimeOffset CreatedAt,
    int Attempts)
{
    /// <summary>When a worker last started it.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it became Done, Failed or Canceled.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Why it failed (Failed), or the failure saved while it was paused.</summary>
    public TaskFailure? Failure { get; init; }

    /// <summary>The input of the run that failed (UTF-8 JSON), kept on a Failed signature: what a retry runs again.</summary>
    public byte[]? FailedInput { get; init; }

    /// <summary>What a retry accepts (rule 31): a Failed task on its own whose failed run's input was kept.</summary>
    public bool CanRetry => Status == SignatureStatus.Failed && Kind == SignatureKind.Task && ParentId is null && FailedInput is not null;

    /// <summary>The result as UTF-8 JSON: kept only for a signature someone waits on, or saved while it was paused.</summary>
    public byte[]? Result { get; init; }

    /// <summary>Runs that arrived (or were stopped) while it was Suspended or Interrupted, waiting for resume.</summary>
    public int ParkedRuns { get; init; }

    /// <summary>A body finished while it was paused: resume applies the saved result or failure (contract §5).</summary>
    public bool HasSavedOutcome { get; init; }

    /// <summary>A task, or a container of other signatures (chain, swarm).</summary>
    public SignatureKind Kind { get; init; }

    /// <summary>The chain or swarm this signature is a step or item of.</summary>
    public string? ParentId { get; init; }

    /// <summary>A chain's steps, in order.</summary>
    public IReadOnlyList<string> ChildIds { get; init; } = [];

    /// <summary>A swarm's options and counters.</summary>
    public SwarmState? Swarm { get; init; }

    /// <summary>Its return member is <see cref="SwarmResults{T}"/>: as a swarm's success callback it gets every item's outcome.</summary>
    public bool ReceivesSwarmResults { get; init; }

    /// <summary>
    /// The task each of its callbacks runs, by callback id, for the callbacks that are plain tasks (not a chain or a
    /// swarm, not taking <see cref="SwarmResults{T}"/>): known when it is signed, so a backend may queue such a
    /// callback without reading it first. A callback missing here is read when it fires.
    /// </summary>
    public IReadOnlyDictionary<string, string>? CallbackTasks { get; init; }

    /// <summary>16 URL-safe characters, 96 random bits: short keys keep Redis records compact.</summary>
    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[12];
        RandomNumberGenerator.Fill(bytes);
        return System.Buffers.Text.Base64Url.EncodeToString(bytes);
    }
}

/// <summary>What a signature stands for.</summary>
internal enum SignatureKind
{
    Task = 0,
    Chain = 1,
    Swarm = 2,
}

/// <summary>A swarm's options and where it stands.</summary>
internal sealed record SwarmState(SwarmOptions Options)
{
    public int Added { get; init; }

    /// <summary>Items dispatched and not finished (the concurrency bound counts these).</summary>
    public int Running { get; init; }

    public int Succeeded { get; init; }

    public int Failed { get; init; }

    public bool Closed { get; init; }

    /// <summary>Started with <c>RunAsync</c>: items added with <c>AddAsync</c> may run.</summary>
    public bool Started { get; init; }
}

/// <summary>The task names containers are stored under; ':' keeps them apart from every real task name.</summary>
internal static class ContainerNames
{
    public const string Chain = "mageflow:chain";
    public const string Swarm = "mageflow:swarm";
}
