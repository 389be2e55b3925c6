namespace MageFlow;

/// <summary>
/// A message, kwargs set or call-time kwargs is larger than <see cref="MageFlowOptions.MaxPayloadBytes"/> (measured as
/// UTF-8 JSON). Thrown before anything is stored or changed.
/// </summary>
public sealed class MagePayloadTooLargeException : Exception
{
    /// <summary>The <paramref name="payload"/> for <paramref name="taskName"/> is <paramref name="sizeBytes"/> bytes, over <paramref name="limitBytes"/>.</summary>
    public MagePayloadTooLargeException(string taskName, string payload, long sizeBytes, long limitBytes)
        : base($"Task '{taskName}': the {payload} is {sizeBytes:N0} bytes of UTF-8 JSON, over the limit of {limitBytes:N0} bytes (MageFlowOptions.MaxPayloadBytes). Nothing was stored; pass a reference (a key or URL) to large data instead of the data itself.")
    {
        TaskName = taskName;
        Payload = payload;
        SizeBytes = sizeBytes;
        LimitBytes = limitBytes;
    }

    /// <summary>The task the payload was for.</summary>
    public string TaskName { get; }

    /// <summary>Which payload: "message", "kwargs", "call-time kwargs" or "result".</summary>
    public string Payload { get; }

    /// <summary>The size of the payload, in bytes of UTF-8 JSON.</summary>
    public long SizeBytes { get; }

    /// <summary>The limit it exceeds (<see cref="MageFlowOptions.MaxPayloadBytes"/>).</summary>
    public long LimitBytes { get; }
}
