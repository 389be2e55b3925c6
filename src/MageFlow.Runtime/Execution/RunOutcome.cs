namespace MageFlow.Execution;

/// <summary>
/// What a run came to, decided by <see cref="RunExecutor"/> and applied by <see cref="OutcomeApplier"/> — the
/// way Hangfire's worker hands a state to its state machine. Every failure ends in one of these (rule 20).
/// </summary>
internal abstract record RunOutcome
{
    private RunOutcome() { }

    /// <summary>The outcome's name in telemetry.</summary>
    public abstract string Label { get; }

    /// <summary>The body returned: the signature is done and its success callbacks get <paramref name="Result"/>.</summary>
    public sealed record Succeeded(byte[] Result) : RunOutcome
    {
        public override string Label => "done";
    }

    /// <summary>The attempt failed and another is allowed: run again after <paramref name="Delay"/>.</summary>
    public sealed record Retry(TimeSpan Delay, string Error, Exception Exception, int MaxAttempts) : RunOutcome
    {
        public override string Label => "retried";
    }

    /// <summary>Failed for good: error callbacks get <paramref name="FailedInput"/> and <paramref name="Failure"/>.</summary>
    public sealed record Failed(byte[] FailedInput, TaskFailure Failure, Exception? Exception) : RunOutcome
    {
        public override string Label => "failed";
    }

    /// <summary>The signature was interrupted or canceled and the body stopped: parked for resume or dropped, no callback (rule 25).</summary>
    public sealed record Stopped : RunOutcome
    {
        public override string Label => "stopped";
    }

    /// <summary>The worker is shutting down: the run is handed back for another worker, not counted as an attempt.</summary>
    public sealed record Abandoned : RunOutcome
    {
        public override string Label => "abandoned";
    }
}
