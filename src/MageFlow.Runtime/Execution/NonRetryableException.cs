namespace MageFlow;

/// <summary>Throw from a task to fail it at once: no retry, straight to its error callbacks.</summary>
public class NonRetryableException : Exception
{
    public NonRetryableException(string message) : base(message) { }

    public NonRetryableException(string message, Exception innerException) : base(message, innerException) { }
}
