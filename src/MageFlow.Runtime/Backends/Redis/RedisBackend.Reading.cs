using System.Collections.Concurrent;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>Taking entries from the task streams: blocking reads, read-ahead, reclaim, keep-alive, promotion of retries.</summary>
internal sealed partial class RedisBackend
{
    // One blocking read at a time: reads queued behind each other on one connection would add up past its timeout.
    private readonly SemaphoreSlim _readGate = new(1, 1);

    // Entries read but not yet handed out (a read returns up to COUNT per stream, or was abandoned on cancellation).
    // They are pending for their consumer, so keep-alive covers them too (rule 18).
    private readonly Lock _readAheadGate = new();
    private readonly Dictionary<string, List<QueueEntry>> _readAhead = new(StringComparer.Ordinal);

    // XAUTOCLAIM cursors per stream, so successive reclaims scan the whole pending list, not just its head.
    private readonly ConcurrentDictionary<string, string> _reclaimCursors = new(StringComparer.Ordinal);

    private Task? _abandonedRead;

    public async Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(taskNames.Select(async name =>
        {
            try
            {
                // From id 0, so entries queued before any worker created the group are delivered too.
                await db.StreamCreateConsumerGroupAsync(_layout.Queue(name), _group, "0", createStream: true).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                // Exists already.
            }
        })).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<QueueEntry>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        cancellationToken.ThrowIfCancellationRequested();
        if (taskNames.Count == 0 || maxCount < 1) return [];

        var readAhead = TakeReadAhead(consumer, taskNames, maxCount);
        if (readAhead.Count > 0) return readAhead;

        var reader = await BlockingDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await _readGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var read = ReadAndReleaseGateAsync(reader, taskNames, consumer, maxCount, wait);
        List<QueueEntry> entries;
        try
        {
            entries = await read.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The read still completes on the server; keep what it takes for this consumer's next read.
            _abandonedRead = KeepForNextReadAsync(read, consumer);
            throw;
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            // A queue or its group was deleted under us (or Redis restarted empty): recreate and read again next time.
            await PrepareQueuesAsync(taskNames, cancellationToken).ConfigureAwait(false);
            return [];
        }

        if (entries.Count <= maxCount) return entries;
        // COUNT applies per stream: hand out maxCount, keep the rest (already pending for this consumer).
        AddReadAhead(consumer, entries.GetRange(maxCount, entries.Count - maxCount));
        return entries.GetRange(0, maxCount);
    }

    private async Task<List<QueueEntry>> ReadAndReleaseGateAsync(IDatabase reader, IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait)
    {
        try
        {
            var arguments = new List<object>(8 + taskNames.Count * 2) { "GROUP", RedisLayout.ConsumerGroup, consumer, "COUNT", maxCount };
            if (wait > TimeSpan.Zero)
            {
                // Below the connection's timeout, so a quiet queue never looks like a dead connection.
                var blockMs = (long)Math.Clamp(Math.Ceiling(wait.TotalMilliseconds), 1, _blockLimitMs);
                arguments.Add("BLOCK");
                arguments.Add(blockMs);
            }
            arguments.Add("STREAMS");
            foreach (var name in taskNames) arguments.Add(_layout.Queue(name));
            foreach (var _ in taskNames) arguments.Add(">");
            var reply = await reader.ExecuteAsync("XREADGROUP", arguments).ConfigureAwait(false);
            return ParseReadReply(reply);
        }
        finally
        {
            _readGate.Release();
        }
    }

    private async Task KeepForNextReadAsync(Task<List<QueueEntry>> read, string consumer)
    {
        try
        {
            var entries = await read.ConfigureAwait(false);
            if (entries.Count > 0) AddReadAhead(consumer, entries);
        }
        catch (Exception ex)
        {
            // Whatever it took stays pending and is reclaimed after the visibility timeout.
            RedisLog.AbandonedReadFailed(_logger, ex);
        }
    }

    /// <summary>Parses an XREADGROUP reply: per stream, <c>[key, [[id, [field, value, ...]], ...]]</c> (a map under RESP3).</summary>
    private List<QueueEntry> ParseReadReply(RedisResult reply)
    {
        var entries = new List<QueueEntry>();
        if (reply.IsNull || reply.Resp2Type != ResultType.Array) return entries;
        if (reply.Resp3Type == ResultType.Map)
        {
            for (var i = 0; i + 1 < reply.Length; i += 2) AddStreamEntries(entries, reply[i], reply[i + 1]);
        }
        else
        {
            for (var i = 0; i < reply.Length; i++)
                if (reply[i].Length >= 2) AddStreamEntries(entries, reply[i][0], reply[i][1]);
        }
        return entries;
    }

    private void AddStreamEntries(List<QueueEntry> entries, RedisResult streamKey, RedisResult streamEntries)
    {
        var key = (string?)streamKey ?? "";
        var taskName = _layout.TaskNameOfQueue(key) ?? key;
        if (streamEntries.IsNull || streamEntries.Resp2Type != ResultType.Array) return;
        for (var i = 0; i < streamEntries.Length; i++) entries.Add(RedisLayout.ParseEntry(taskName, streamEntries[i]));
    }

    public async Task<IReadOnlyList<QueueEntry>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var minIdleMs = (long)Math.Max(0, minIdle.TotalMilliseconds);
        var reclaimed = new List<QueueEntry>();
        // What this consumer read ahead is still its own to hand out: a late keep-alive must not make it run twice.
        HashSet<(string TaskName, string EntryId)> readAhead;
        lock (_readAheadGate) readAhead = _readAhead.TryGetValue(consumer, out var kept) ? kept.Select(e => (e.TaskName, e.EntryId)).ToHashSet() : [];
        foreach (var name in taskNames)
        {
            if (reclaimed.Count >= maxCount) break;
            cancellationToken.ThrowIfCancellationRequested();
            var queue = _layout.Queue(name);
            var cursor = _reclaimCursors.GetValueOrDefault(name, "0-0");
            RedisResult reply;
            try
            {
                reply = await db.ExecuteAsync("XAUTOCLAIM", queue, _group, consumer, minIdleMs, cursor, "COUNT", maxCount - reclaimed.Count).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                continue; // nothing was ever read from this queue
            }
            if (reply.Resp2Type != ResultType.Array || reply.Length < 2) continue;
            _reclaimCursors[name] = (string?)reply[0] ?? "0-0";
            var entries = reply[1];
            for (var i = 0; i < entries.Length; i++)
            {
                var entry = RedisLayout.ParseEntry(name, entries[i]);
                if (!readAhead.Contains((entry.TaskName, entry.EntryId))) reclaimed.Add(entry);
            }
            if (reply.Length >= 3 && reply[2].Length > 0)
            {
                // Entries whose data was deleted: nothing to run; make sure they leave the pending list.
                var deleted = (RedisValue[])reply[2]!;
                await db.StreamAcknowledgeAsync(queue, _group, deleted).ConfigureAwait(false);
            }
        }
        return reclaimed;
    }

    public async Task<IReadOnlyList<string>> KeepAliveAsync(IReadOnlyCollection<QueueEntry> held, string consumer, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(held);
        List<QueueEntry> readAhead;
        lock (_readAheadGate) readAhead = _readAhead.TryGetValue(consumer, out var kept) ? [.. kept] : [];
        var deliveries = held.Concat(readAhead).OfType<Delivery>().Where(d => d.EntryId.Length > 0).ToArray();
        if (deliveries.Length == 0) return [];
        var stopped = new List<string>();
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        foreach (var chunk in deliveries.Chunk(MaxTransitionBatch))
        {
            var keys = new RedisKey[chunk.Length * 2];
            var values = new RedisValue[4 + chunk.Length];
            values[0] = _group;
            values[1] = consumer;
            values[2] = _layout.Prefix;
            values[3] = ExpiryMilliseconds(activeTtl);
            for (var i = 0; i < chunk.Length; i++)
            {
                keys[2 * i] = _layout.Queue(chunk[i].TaskName);
                keys[2 * i + 1] = _layout.Signature(chunk[i].Envelope.SignatureId);
                values[4 + i] = chunk[i].EntryId;
            }
            stopped.AddRange((string[])(await KeepAliveScript.RunAsync(db, keys, values).ConfigureAwait(false))!);
        }
        return stopped;
    }

    public async Task<int> RemoveIdleConsumersAsync(IReadOnlyCollection<string> taskNames, string? stoppingConsumer, TimeSpan idleFor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var idleMs = (long)Math.Max(0, idleFor.TotalMilliseconds);
        var removed = await Task.WhenAll(taskNames.Select(name =>
            RemoveIdleConsumersScript.RunAsync(db, [_layout.Queue(name)], [_group, idleMs, stoppingConsumer ?? ""]))).ConfigureAwait(false);
        return removed.Sum(r => (int)r);
    }

    public async Task<long> TrimQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        if (taskNames.Count == 0) return 0;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        return (long)await TrimQueuesScript.RunAsync(db, taskNames.Select(name => _layout.Queue(name)).ToArray(), [_group]).ConfigureAwait(false);
    }

    public async Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken)
    {
        if (maxCount < 1) return 0;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var reply = await PromoteDueScript.RunAsync(db, [_layout.Delayed], [now.ToUnixTimeMilliseconds(), maxCount, _layout.Prefix]).ConfigureAwait(false);
        var dropped = (int)reply[1];
        if (dropped > 0) RedisLog.DroppedUnreadableRetries(_logger, dropped, (string)_layout.Delayed!);
        return (int)reply[0];
    }

    private List<QueueEntry> TakeReadAhead(string consumer, IReadOnlyCollection<string> taskNames, int maxCount)
    {
        lock (_readAheadGate)
        {
            if (!_readAhead.TryGetValue(consumer, out var kept)) return [];
            var served = taskNames as ISet<string> ?? new HashSet<string>(taskNames, StringComparer.Ordinal);
            var taken = new List<QueueEntry>();
            for (var i = 0; i < kept.Count && taken.Count < maxCount;)
            {
                if (served.Contains(kept[i].TaskName))
                {
                    taken.Add(kept[i]);
                    kept.RemoveAt(i);
                }
                else i++;
            }
            if (kept.Count == 0) _readAhead.Remove(consumer);
            return taken;
        }
    }

    private void AddReadAhead(string consumer, List<QueueEntry> entries)
    {
        lock (_readAheadGate)
        {
            if (!_readAhead.TryGetValue(consumer, out var kept)) _readAhead[consumer] = kept = [];
            kept.AddRange(entries);
        }
    }

    /// <summary>
    /// At shutdown, entries read but never handed out are marked long idle (XCLAIM … TIME 1), so the next
    /// reclaim by any worker takes them at once instead of after the visibility timeout.
    /// </summary>
    private async Task ReleaseReadAheadAsync()
    {
        List<(string Consumer, QueueEntry Entry)> kept;
        lock (_readAheadGate)
        {
            kept = _readAhead.SelectMany(pair => pair.Value.Select(d => (pair.Key, d))).ToList();
            _readAhead.Clear();
        }
        if (kept.Count == 0 || _database is not { } db) return;
        try
        {
            await Task.WhenAll(kept
                .Where(k => k.Entry.EntryId.Length > 0)
                .GroupBy(k => (k.Consumer, k.Entry.TaskName))
                .Select(g =>
                {
                    var arguments = new List<object> { _layout.Queue(g.Key.TaskName), RedisLayout.ConsumerGroup, g.Key.Consumer, 0 };
                    arguments.AddRange(g.Select(k => (object)k.Entry.EntryId));
                    arguments.AddRange(["TIME", 1, "JUSTID"]);
                    return db.ExecuteAsync("XCLAIM", arguments);
                })).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            RedisLog.ReleaseReadAheadFailed(_logger, ex, kept.Count);
        }
    }
}
