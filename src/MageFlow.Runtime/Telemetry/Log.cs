using Microsoft.Extensions.Logging;

namespace MageFlow;

/// <summary>Every transition and every error, with the signature id and task name (source-generated logging).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Signed {TaskName} as {SignatureId} with {SuccessCount} success and {ErrorCount} error callbacks")]
    public static partial void SignatureCreated(ILogger logger, string signatureId, string taskName, int successCount, int errorCount);

    [LoggerMessage(2, LogLevel.Debug, "Dispatched a run of {TaskName} {SignatureId}")]
    public static partial void RunDispatched(ILogger logger, string signatureId, string taskName);

    [LoggerMessage(10, LogLevel.Debug, "Started {TaskName} {SignatureId}, attempt {Attempt} of {MaxAttempts}")]
    public static partial void RunStarted(ILogger logger, string signatureId, string taskName, int attempt, int maxAttempts);

    [LoggerMessage(11, LogLevel.Debug, "Finished {TaskName} {SignatureId}: Done, {CallbackCount} success callbacks dispatched")]
    public static partial void RunDone(ILogger logger, string signatureId, string taskName, int callbackCount);

    [LoggerMessage(12, LogLevel.Error, "Failed {TaskName} {SignatureId} after attempt {Attempt} ({Kind}): {Error}; {CallbackCount} error callbacks dispatched")]
    public static partial void RunFailed(ILogger logger, Exception? exception, string signatureId, string taskName, int attempt, TaskFailureKind kind, string error, int callbackCount);

    [LoggerMessage(13, LogLevel.Warning, "Attempt {Attempt} of {MaxAttempts} of {TaskName} {SignatureId} failed; retrying in {Delay}: {Error}")]
    public static partial void RunRetrying(ILogger logger, Exception exception, string signatureId, string taskName, int attempt, int maxAttempts, TimeSpan delay, string error);

    [LoggerMessage(14, LogLevel.Warning, "Dropped a run of {TaskName}: signature {SignatureId} no longer exists")]
    public static partial void RunDroppedMissing(ILogger logger, string signatureId, string taskName);

    [LoggerMessage(15, LogLevel.Information, "Skipped a run of {TaskName} {SignatureId}: its status is {Status}")]
    public static partial void RunSkippedNotRunnable(ILogger logger, string signatureId, string taskName, SignatureStatus status);

    [LoggerMessage(16, LogLevel.Information, "Ignored a finish of {TaskName} {SignatureId}: it had already finished or was canceled")]
    public static partial void DuplicateFinish(ILogger logger, string signatureId, string taskName);

    [LoggerMessage(17, LogLevel.Warning, "Callbacks of {TaskName} {SignatureId} no longer exist and were not dispatched: {CallbackIds}")]
    public static partial void MissingCallbacks(ILogger logger, string signatureId, string taskName, string callbackIds);

    [LoggerMessage(18, LogLevel.Error, "Dropped a malformed entry {EntryId} of queue {TaskName}: {Reason}")]
    public static partial void MalformedEntry(ILogger logger, string entryId, string taskName, string reason);

    [LoggerMessage(19, LogLevel.Information, "Handed {TaskName} {SignatureId} back at shutdown; another worker takes it over (not counted as an attempt)")]
    public static partial void LeftForReclaim(ILogger logger, string signatureId, string taskName);

    [LoggerMessage(20, LogLevel.Error, "Worker loop error; continuing")]
    public static partial void WorkerLoopError(ILogger logger, Exception exception);

    [LoggerMessage(21, LogLevel.Error, "Could not record the outcome of {TaskName} {SignatureId}; the entry stays pending and is reclaimed after the visibility timeout")]
    public static partial void TransitionError(ILogger logger, Exception exception, string signatureId, string taskName);

    [LoggerMessage(22, LogLevel.Information, "Worker {Consumer} serving {TaskCount} tasks on {Backend} with concurrency {Concurrency}")]
    public static partial void WorkerStarted(ILogger logger, string consumer, int taskCount, string backend, int concurrency);

    [LoggerMessage(23, LogLevel.Information, "Reclaimed {Count} entries idle past the visibility timeout")]
    public static partial void Reclaimed(ILogger logger, int count);

    [LoggerMessage(24, LogLevel.Warning, "A transition failed on attempt {Attempt}; trying again in {Delay}")]
    public static partial void TransitionRetrying(ILogger logger, Exception exception, int attempt, TimeSpan delay);

    [LoggerMessage(25, LogLevel.Error, "Dropped a run of {TaskName} {SignatureId}: the stored signature is corrupt ({Problem})")]
    public static partial void RunDroppedCorrupt(ILogger logger, string signatureId, string taskName, string problem);

    [LoggerMessage(26, LogLevel.Warning, "Worker {Consumer} cannot start yet ({Error}); trying again in {Delay}")]
    public static partial void WorkerStartDelayed(ILogger logger, Exception exception, string consumer, string error, TimeSpan delay);

    [LoggerMessage(27, LogLevel.Information, "Removed {Count} consumers of stopped workers from the task queues")]
    public static partial void RemovedIdleConsumers(ILogger logger, int count);

    [LoggerMessage(28, LogLevel.Information, "Parked a run of {TaskName} {SignatureId}: it is {Status}; ResumeAsync runs it")]
    public static partial void RunParked(ILogger logger, string signatureId, string taskName, SignatureStatus status);

    [LoggerMessage(29, LogLevel.Information, "Stopped {TaskName} {SignatureId}: it was interrupted or canceled while running; no callback fires")]
    public static partial void RunStopped(ILogger logger, string signatureId, string taskName);

    [LoggerMessage(30, LogLevel.Information, "{TaskName} {SignatureId} finished while paused; its outcome is kept for ResumeAsync")]
    public static partial void OutcomeSaved(ILogger logger, string signatureId, string taskName);

    [LoggerMessage(31, LogLevel.Information, "{Action} {TaskName} {SignatureId}: {Before} -> {After}")]
    public static partial void LifecycleChanged(ILogger logger, string action, string signatureId, string taskName, SignatureStatus before, SignatureStatus after);

    [LoggerMessage(32, LogLevel.Warning, "Waiting for finished signatures lost its notifications for a while ({Error}); waiters fall back to reading the status")]
    public static partial void WaitCheckFailed(ILogger logger, Exception exception, string error);
}
