using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// Waiting out a Redis Cluster slot migration. While the store's slot moves between nodes, Redis answers some calls
/// with a redirect or a refusal instead of running them: ASK (the keys are on the importing node), TRYAGAIN (the keys
/// are split between the nodes), a script's "non local key" abort (before any write: see <c>require_stable_slot</c>
/// in common.lua), EXECABORT (a transaction that met one of these), MOVED (the move just finished; StackExchange.Redis
/// updates its slot map from that very reply, even under NoRedirect), CLUSTERDOWN (a failover in progress), and
/// StackExchange.Redis's own "not reachable" while it reconnects to the new owner. None of them ran anything, so the call is
/// repeated after a short pause until the move is over.
/// </summary>
internal static class SlotMigration
{
    /// <summary>How long a call waits for a migration, at most; a slot of millions of keys may take longer, and then the call fails.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MaxPause = TimeSpan.FromMilliseconds(100);

    public static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var wait = Wait.Start();
        while (true)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (RedisException ex) when (wait.Allows(ex))
            {
                await wait.PauseAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>One call's wait for a migration: from its first attempt, pausing twice as long each time up to a limit.</summary>
    internal struct Wait
    {
        private DateTime _started;
        private TimeSpan _pause;

        public static Wait Start() => new() { _started = DateTime.UtcNow, _pause = TimeSpan.FromMilliseconds(2) };

        /// <summary>The error means the slot is moving, and the call has not waited its longest yet.</summary>
        public readonly bool Allows(RedisException error) => IsMigrationRefusal(error.Message) && DateTime.UtcNow - _started < MaxWait;

        public Task PauseAsync()
        {
            var pause = _pause;
            _pause = TimeSpan.FromTicks(Math.Min(_pause.Ticks * 2, MaxPause.Ticks));
            return Task.Delay(pause);
        }
    }

    /// <summary>A reply that means "not run: the slot is moving", as opposed to an error of the call itself.</summary>
    internal static bool IsMigrationRefusal(string message) =>
        message.StartsWith("ASK ", StringComparison.Ordinal)
        || message.StartsWith("MOVED ", StringComparison.Ordinal)
        || message.StartsWith("Key has MOVED", StringComparison.Ordinal) // StackExchange.Redis's words for MOVED under NoRedirect
        || message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
        || message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
        || message.StartsWith("EXECABORT", StringComparison.Ordinal)
        || message.Contains("non local key in a cluster node", StringComparison.Ordinal)
        // StackExchange.Redis refusing to send to the slot's new owner while it updates its map after a move (not sent)
        || (message.StartsWith("Endpoint ", StringComparison.Ordinal) && message.Contains(" is not reachable at this point of time", StringComparison.Ordinal));
}
