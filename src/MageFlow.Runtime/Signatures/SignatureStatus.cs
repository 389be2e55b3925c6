namespace MageFlow;

/// <summary>The life-cycle state of a signature (semantics rule 12).</summary>
public enum SignatureStatus
{
    /// <summary>Signed (or resumed); no run has started since.</summary>
    Pending = 0,

    /// <summary>A worker started a run; between retries it stays Active.</summary>
    Active = 1,

    /// <summary>Finished with a result; its success callbacks were dispatched once. Final.</summary>
    Done = 2,

    /// <summary>Finished with a failure; its error callbacks were dispatched once. Final.</summary>
    Failed = 3,

    /// <summary>Paused by <c>SuspendAsync</c>: runs that arrive are parked; a running body goes on.</summary>
    Suspended = 4,

    /// <summary>Paused by <c>InterruptAsync</c>: as Suspended, and a running body was cancelled.</summary>
    Interrupted = 5,

    /// <summary>Stopped for good by <c>CancelAsync</c>; no callback was dispatched. Final.</summary>
    Canceled = 6,
}

internal static class SignatureStatusExtensions
{
    /// <summary>Rule 13: only a Pending or Active signature may be executed.</summary>
    public static bool IsRunnable(this SignatureStatus status) => status is SignatureStatus.Pending or SignatureStatus.Active;

    /// <summary>Done, Failed or Canceled: never runs again, and lifecycle operations refuse it (contract §5).</summary>
    public static bool IsFinished(this SignatureStatus status) => status is SignatureStatus.Done or SignatureStatus.Failed or SignatureStatus.Canceled;

    /// <summary>Suspended or Interrupted: runs that arrive are parked until resume (rule 24).</summary>
    public static bool IsPaused(this SignatureStatus status) => status is SignatureStatus.Suspended or SignatureStatus.Interrupted;
}
