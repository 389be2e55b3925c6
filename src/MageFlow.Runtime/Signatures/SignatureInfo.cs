using System.Text.Json;

namespace MageFlow;

/// <summary>
/// What is stored about a signature right now (the read side for operators and dashboards): status, task,
/// kwargs, callbacks, attempts, timestamps and the failure if any. A snapshot: read again to see changes.
/// </summary>
public sealed class SignatureInfo
{
    internal SignatureInfo(Signatures.SignatureRecord record, JsonElement kwargs)
    {
        Id = record.Id;
        TaskName = record.TaskName;
        Status = record.Status;
        LastStatus = record.LastStatus;
        Kwargs = kwargs;
        SuccessCallbackIds = record.SuccessCallbackIds;
        ErrorCallbackIds = record.ErrorCallbackIds;
        ReturnField = record.ReturnField;
        Attempts = record.Attempts;
        CreatedAt = record.CreatedAt;
        StartedAt = record.StartedAt;
        FinishedAt = record.FinishedAt;
        Failure = record.Failure;
        FailedInput = JsonOrNull(record.FailedInput);
        CanRetry = record.CanRetry;
        ParkedRuns = record.ParkedRuns;
        HasSavedOutcome = record.HasSavedOutcome;
        ParentId = record.ParentId;
        StepIds = record.ChildIds;
        Swarm = record.Swarm is { } swarm
            ? new SwarmProgress(swarm.Options, swarm.Added, swarm.Running, swarm.Succeeded, swarm.Failed, swarm.Started, swarm.Closed)
            : null;
    }

    /// <summary>The signature's id.</summary>
    public string Id { get; }

    /// <summary>The task it runs.</summary>
    public string TaskName { get; }

    /// <summary>Its status when it was read.</summary>
    public SignatureStatus Status { get; }

    /// <summary>The status before the last change; for a Suspended or Interrupted signature, the one resume returns to.</summary>
    public SignatureStatus LastStatus { get; }

    /// <summary>The bound kwargs, as a JSON object.</summary>
    public JsonElement Kwargs { get; }

    /// <summary>The signatures dispatched with its result when it succeeds.</summary>
    public IReadOnlyList<string> SuccessCallbackIds { get; }

    /// <summary>The signatures dispatched when it finally fails.</summary>
    public IReadOnlyList<string> ErrorCallbackIds { get; }

    /// <summary>Wire name of the member that receives a result when this signature runs as a success callback.</summary>
    public string ReturnField { get; }

    /// <summary>Runs started so far (a run handed back at shutdown or stopped by an interrupt does not count).</summary>
    public int Attempts { get; }

    /// <summary>When it was signed.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When a worker last started it; null before the first start.</summary>
    public DateTimeOffset? StartedAt { get; }

    /// <summary>When it became Done, Failed or Canceled; null before.</summary>
    public DateTimeOffset? FinishedAt { get; }

    /// <summary>Why it failed, when <see cref="Status"/> is Failed (or a failure saved while paused).</summary>
    public TaskFailure? Failure { get; }

    /// <summary>Runs waiting for <c>ResumeAsync</c> (they arrived, or were stopped, while paused).</summary>
    public int ParkedRuns { get; }

    /// <summary>A body finished while the signature was suspended: <c>ResumeAsync</c> applies its result or failure.</summary>
    public bool HasSavedOutcome { get; }

    /// <summary>The chain or swarm it is a step or item of; null when it stands alone.</summary>
    public string? ParentId { get; }

    /// <summary>A chain's steps, in order; empty for anything else.</summary>
    public IReadOnlyList<string> StepIds { get; }

    /// <summary>A swarm's options and progress; null for anything else.</summary>
    public SwarmProgress? Swarm { get; }

    /// <summary>Done, Failed or Canceled: it will not run again.</summary>
    public bool IsFinished => Status.IsFinished();

    /// <summary>
    /// For a Failed signature: the input of the run that failed (its message with the kwargs merged), which
    /// <see cref="TaskSignature.RetryAsync"/> runs again; null otherwise.
    /// </summary>
    public JsonElement? FailedInput { get; }

    /// <summary>
    /// Whether <see cref="TaskSignature.RetryAsync"/> would accept it now: a Failed task on its own (not a chain, a
    /// swarm, or one of their steps or items) whose failed run's input was kept.
    /// </summary>
    public bool CanRetry { get; }

    private static JsonElement? JsonOrNull(byte[]? json)
    {
        if (json is null) return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null; // a run whose input was not JSON failed as invalid input: there is nothing to show or run again
        }
    }

    /// <summary><c>task#id status</c>.</summary>
    public override string ToString() => $"{TaskName}#{Id} {Status}";
}

/// <summary>Where a swarm stands.</summary>
/// <param name="Options">The options it was created with.</param>
/// <param name="Added">Items added so far.</param>
/// <param name="Running">Items dispatched and not finished (never more than <see cref="SwarmOptions.MaxConcurrency"/>).</param>
/// <param name="Succeeded">Items that finished Done.</param>
/// <param name="Failed">Items that failed (or could not start).</param>
/// <param name="Started">Started with <c>RunAsync</c>: items added with <c>AddAsync</c> may run.</param>
/// <param name="Closed">Takes no more items; it completes once every item has finished.</param>
public sealed record SwarmProgress(SwarmOptions Options, int Added, int Running, int Succeeded, int Failed, bool Started, bool Closed);

/// <summary>Which signatures <see cref="IMageFlow.ListSignaturesAsync"/> returns; a null member matches every value.</summary>
public sealed record SignatureQuery
{
    /// <summary>Only signatures in this status.</summary>
    public SignatureStatus? Status { get; init; }

    /// <summary>Only signatures of this task.</summary>
    public string? TaskName { get; init; }

    /// <summary>At most this many (default 1,000).</summary>
    public int Limit { get; init; } = 1000;
}
