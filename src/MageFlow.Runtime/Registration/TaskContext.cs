namespace MageFlow;

/// <summary>What a running task may know about its run. Ask for it as a parameter of a task method.</summary>
public sealed class TaskContext
{
    internal TaskContext(string signatureId, string taskName, int attempt, int maxAttempts, IServiceProvider services, TaskFailure? failure)
    {
        SignatureId = signatureId;
        TaskName = taskName;
        Attempt = attempt;
        MaxAttempts = maxAttempts;
        Services = services;
        Failure = failure;
    }

    public string SignatureId { get; }

    public string TaskName { get; }

    /// <summary>1 for the first attempt.</summary>
    public int Attempt { get; }

    /// <summary>Retries + 1.</summary>
    public int MaxAttempts { get; }

    /// <summary>A scope created for this run: instance tasks are resolved from it.</summary>
    public IServiceProvider Services { get; }

    /// <summary>For an error callback: what failed. Null for ordinary runs and success callbacks.</summary>
    public TaskFailure? Failure { get; }
}

/// <summary>The failure an error callback was dispatched for.</summary>
/// <param name="SignatureId">The failed signature.</param>
/// <param name="TaskName">The failed task.</param>
/// <param name="Error">The error text recorded for the last attempt.</param>
public sealed record TaskFailure(string SignatureId, string TaskName, string Error);
