namespace MageFlow;

/// <summary>
/// Marks a method as a MageFlow task. The source generator turns it into a typed builder class named
/// after the method (<c>ProcessOrder.AsignAsync(...)</c>) and registers it with the worker.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class MageTaskAttribute : Attribute
{
    /// <summary>Uses the kebab-cased method name as the task name (<c>ProcessOrder</c> → <c>process-order</c>).</summary>
    public MageTaskAttribute() { }

    /// <param name="name">The task name, shared by every process that signs or runs this task.</param>
    public MageTaskAttribute(string name) => Name = name;

    /// <summary>The explicit task name, or null for the kebab-cased method name.</summary>
    public string? Name { get; }

    /// <summary>How many times a failed attempt is retried: N retries = up to N + 1 attempts. Default 0.</summary>
    public int Retries { get; set; }

    /// <summary>Per-attempt time limit in seconds; 0 (default) means none. A timed-out attempt counts as failed.</summary>
    public int TimeoutSeconds { get; set; }

    /// <summary>Delay before the first retry in milliseconds, doubled on each later retry; 0 (default) uses the worker's option.</summary>
    public int RetryDelayMilliseconds { get; set; }
}
