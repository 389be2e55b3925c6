namespace MageFlow;

/// <summary>Throw from a task to fail it at once: no retry, straight to its error callbacks.</summary>
public class NonRetryableException : Exception
{
    /// <summary>Fails the task with <paramref name="message"/> as its error.</summary>
    public NonRetryableException(string message) : base(message) { }

    /// <summary>Fails the task with <paramref name="message"/> as its error, caused by <paramref name="innerException"/>.</summary>
    public NonRetryableException(string message, Exception innerException) : base(message, innerException) { }
}
