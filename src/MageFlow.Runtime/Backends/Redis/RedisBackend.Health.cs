using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>What the health checks ask of Redis: a PING, and the age of the oldest entry each queue has not finished.</summary>
internal sealed partial class RedisBackend
{
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await db.PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Two pipelined rounds over the streams (all keys share one slot): each group's last-delivered id, then the
    /// smallest pending id (XPENDING's summary) and the first entry after the last-delivered id. Entries at or
    /// below it that are not pending were acknowledged and only wait for the trim.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOldestUnacknowledgedAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var names = taskNames.Distinct(StringComparer.Ordinal).ToArray();
        var lastDelivered = await Task.WhenAll(names.Select(name => LastDeliveredIdAsync(db, _layout.Queue(name)))).WaitAsync(cancellationToken).ConfigureAwait(false);
        var oldest = await Task.WhenAll(names.Select((name, i) => OldestUnacknowledgedIdAsync(db, _layout.Queue(name), lastDelivered[i]))).WaitAsync(cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
            if (oldest[i] is { } entryId) result[names[i]] = RedisLayout.QueuedAtOf(entryId);
        return result;
    }

    /// <summary>What the consumer group has delivered so far on a stream.</summary>
    private enum GroupState
    {
        /// <summary>No stream: nothing was ever queued for the task.</summary>
        NoStream,

        /// <summary>A stream without the group: no worker has served it yet, so every entry waits.</summary>
        NoGroup,

        /// <summary>The group exists; its last-delivered id is known.</summary>
        Group,
    }

    private readonly record struct LastDelivered(GroupState State, string Id = "");

    private async Task<LastDelivered> LastDeliveredIdAsync(IDatabase db, RedisKey queue)
    {
        RedisResult groups;
        try
        {
            groups = await db.ExecuteAsync("XINFO", "GROUPS", queue).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return new LastDelivered(GroupState.NoStream);
        }
        for (var g = 0; g < groups.Length; g++)
        {
            // Each group is flat name/value pairs (a map under RESP3, indexed the same way).
            var group = groups[g];
            string? name = null, lastDeliveredId = null;
            for (var i = 0; i + 1 < group.Length; i += 2)
            {
                switch ((string?)group[i])
                {
                    case "name": name = (string?)group[i + 1]; break;
                    case "last-delivered-id": lastDeliveredId = (string?)group[i + 1]; break;
                }
            }
            if (name == RedisLayout.ConsumerGroup && lastDeliveredId is not null) return new LastDelivered(GroupState.Group, lastDeliveredId);
        }
        return new LastDelivered(GroupState.NoGroup);
    }

    private async Task<string?> OldestUnacknowledgedIdAsync(IDatabase db, RedisKey queue, LastDelivered lastDelivered)
    {
        switch (lastDelivered.State)
        {
            case GroupState.NoStream:
                return null;
            case GroupState.NoGroup:
                return FirstEntryId(await db.ExecuteAsync("XRANGE", queue, "-", "+", "COUNT", 1).ConfigureAwait(false));
        }
        var pending = db.ExecuteAsync("XPENDING", queue, _group);
        var undelivered = db.ExecuteAsync("XRANGE", queue, "(" + lastDelivered.Id, "+", "COUNT", 1);
        // Summary form: [count, smallest id, greatest id, consumers]; the smallest id is nil when none is pending.
        var summary = await pending.ConfigureAwait(false);
        var smallestPending = summary.Length >= 2 ? (string?)summary[1] : null;
        var firstUndelivered = FirstEntryId(await undelivered.ConfigureAwait(false));
        // Pending entries were delivered before any undelivered one, so they are older whenever there are any.
        return smallestPending ?? firstUndelivered;
    }

    private static string? FirstEntryId(RedisResult range) => range.Length > 0 ? (string?)range[0][0] : null;
}
