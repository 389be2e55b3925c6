namespace MageFlow;

/// <summary>The life-cycle state of a signature (semantics rule 12).</summary>
public enum SignatureStatus
{
    Pending = 0,
    Active = 1,
    Done = 2,
    Failed = 3,
    Suspended = 4,
    Interrupted = 5,
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
