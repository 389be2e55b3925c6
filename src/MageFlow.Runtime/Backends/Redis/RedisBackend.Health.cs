using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// What the health checks ask of Redis: a PING, the age of the oldest entry each queue has not finished, and of the
/// oldest outbox message not applied yet.
/// </summary>
internal sealed partial class RedisBackend
{
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await db.PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One library call per partition over its streams (they share its slot): the first entry at or past each queue's
    /// unfinished bound, the rule the trim uses too (<c>unfinished_bound</c> in common.lua); the oldest of all partitions.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOldestUnacknowledgedAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        var names = taskNames.Distinct(StringComparer.Ordinal).ToArray();
        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        if (names.Length == 0) return result;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        for (var partition = 0; partition < _layout.Partitions.Count; partition++)
        {
            var oldest = (RedisResult[])(await OldestUnacknowledgedScript.RunAsync(db, names.Select(name => _layout.Queue(partition, name)).ToArray(), [_group])
                .WaitAsync(cancellationToken).ConfigureAwait(false))!;
            for (var i = 0; i < names.Length; i++)
            {
                if ((string?)oldest[i] is not { Length: > 0 } entryId) continue;
                var queuedAt = StreamEntries.QueuedAtOf(entryId);
                if (!result.TryGetValue(names[i], out var earlier) || queuedAt < earlier) result[names[i]] = queuedAt;
            }
        }
        return result;
    }

    /// <summary>The outboxes' unfinished bound, by the same rule as the queues'; one call per partition.</summary>
    public async Task<DateTimeOffset?> GetOldestUnforwardedAsync(CancellationToken cancellationToken)
    {
        if (_layout.Partitions.Count == 1) return null;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset? oldest = null;
        for (var partition = 0; partition < _layout.Partitions.Count; partition++)
        {
            var reply = (RedisResult[])(await OldestUnacknowledgedScript.RunAsync(db, [_layout.Outbox(partition)], [_group]).WaitAsync(cancellationToken).ConfigureAwait(false))!;
            if ((string?)reply[0] is not { Length: > 0 } entryId) continue;
            var writtenAt = StreamEntries.QueuedAtOf(entryId);
            if (oldest is null || writtenAt < oldest) oldest = writtenAt;
        }
        return oldest;
    }
}
