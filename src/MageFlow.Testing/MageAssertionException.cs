namespace MageFlow.Testing;

/// <summary>
/// A <see cref="MageRecorder"/> assertion failed. Its message says what was expected and lists what was dispatched
/// instead, so it reads the same in xUnit, NUnit or MSTest (none of them is a dependency).
/// </summary>
public sealed class MageAssertionException(string message) : Exception(message);
