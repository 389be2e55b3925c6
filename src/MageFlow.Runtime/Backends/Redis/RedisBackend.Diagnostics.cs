using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

internal sealed partial class RedisBackend
{
    /// <summary>
    /// Measurement hook for the benchmark: commands this backend has sent so far on both of its connections
    /// (StackExchange.Redis operation counters, connection handshakes included). Zero before connecting.
    /// </summary>
    internal long CommandsSent => Sent(_main) + _blocking.Sum(Sent);

    private static long Sent(ConnectionMultiplexer? connection) =>
        connection is null ? 0 : connection.GetCounters().Interactive.OperationCount;
}
