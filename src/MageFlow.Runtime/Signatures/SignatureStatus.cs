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
}
