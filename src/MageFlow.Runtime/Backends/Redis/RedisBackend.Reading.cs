using System.Collections.Concurrent;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// Taking entries from the task streams of every partition: blocking reads, read-ahead, reclaim, keep-alive, promotion
/// of retries. With several partitions each one's outbox is read with its streams, and its messages are applied here
/// (<see cref="ApplyOutboxAsync"/>), never handed to the worker.
/// </summary>
internal sealed partial class RedisBackend
{
    // One blocking read at a time: reads queued behind each other on one connection would add up past its timeout.
    private readonly SemaphoreSlim _readGate = new(1, 1);

    // On a cluster with several partitions no command reads two partitions (two slots): one read per partition, each
    // kept in flight until it returns, its entries added to the read-ahead. Under _readAheadGate.
    private readonly Dictionary<(string Consumer, int Partition), Task<Exception?>> _partitionReads = [];

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
        var partitions = Enumerable.Range(0, _layout.Partitions.Count).ToArray();
        await Task.WhenAll(StreamsOf(partitions, taskNames).Select(async stream =>
        {
            try
            {
                // From id 0, so entries queued before any worker created the group are delivered too.
                await db.StreamCreateConsumerGroupAsync(stream.Key, _group, "0", createStream: true).ConfigureAwait(false);
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

        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        if (_readPerPartition) return await ReadEachPartitionAsync(db, taskNames, consumer, maxCount, wait, cancellationToken).ConfigureAwait(false);
        var reader = await BlockingDatabaseAsync(0, cancellationToken).ConfigureAwait(false);
        await _readGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var read = ReadAndReleaseGateAsync(db, reader, Enumerable.Range(0, _layout.Partitions.Count).ToArray(), taskNames, consumer, maxCount, wait);
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

    private async Task<List<QueueEntry>> ReadAndReleaseGateAsync(IDatabase db, IDatabase reader, int[] partitions, IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait)
    {
        try
        {
            return await ReadStreamsAsync(db, reader, partitions, taskNames, consumer, maxCount, wait).ConfigureAwait(false);
        }
        finally
        {
            _readGate.Release();
        }
    }

    /// <summary>
    /// One XREADGROUP over the task streams (and outboxes) of <paramref name="partitions"/>, which a cluster allows only
    /// for one partition; the outbox messages it returns are applied before it returns the task entries.
    /// </summary>
    private async Task<List<QueueEntry>> ReadStreamsAsync(IDatabase db, IDatabase reader, int[] partitions, IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait)
    {
        var streams = StreamsOf(partitions, taskNames);
        var arguments = new List<object>(8 + streams.Count * 2) { "GROUP", RedisLayout.ConsumerGroup, consumer, "COUNT", maxCount };
        if (wait > TimeSpan.Zero)
        {
            // Below the connection's timeout, so a quiet queue never looks like a dead connection.
            var blockMs = (long)Math.Clamp(Math.Ceiling(wait.TotalMilliseconds), 1, _blockLimitMs);
            arguments.Add("BLOCK");
            arguments.Add(blockMs);
        }
        arguments.Add("STREAMS");
        foreach (var stream in streams) arguments.Add(stream.Key);
        foreach (var _ in streams) arguments.Add(">");
        var reply = await reader.ExecuteAsync("XREADGROUP", arguments).ConfigureAwait(false);
        var (entries, messages) = ParseReadReply(reply, streams);
        foreach (var (partition, partitionMessages) in messages)
            await ApplyOutboxAsync(db, partition, partitionMessages).ConfigureAwait(false);
        return entries;
    }

    /// <summary>
    /// A cluster with several partitions: a read in flight per partition, each on its partition's own blocking
    /// connection; returns what the first reads bring, or nothing once every partition's read came back empty.
    /// </summary>
    private async Task<IReadOnlyList<QueueEntry>> ReadEachPartitionAsync(IDatabase db, IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken)
    {
        var reads = new Task<Exception?>[_layout.Partitions.Count];
        lock (_readAheadGate)
        {
            for (var partition = 0; partition < reads.Length; partition++)
            {
                if (!_partitionReads.TryGetValue((consumer, partition), out var read) || read.IsCompleted)
                    _partitionReads[(consumer, partition)] = read = ReadIntoReadAheadAsync(db, partition, taskNames, consumer, maxCount, wait);
                reads[partition] = read;
            }
        }
        while (true)
        {
            // A read that failed is the caller's to hear of (the worker backs off); the others stay in flight.
            if (reads.FirstOrDefault(read => read.IsCompletedSuccessfully && read.Result is not null) is { } failed)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed.Result!);
            var taken = TakeReadAhead(consumer, taskNames, maxCount);
            var inFlight = reads.Where(read => !read.IsCompleted).ToArray();
            if (taken.Count > 0 || inFlight.Length == 0) return taken;
            await Task.WhenAny(inFlight).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One partition's read, its entries kept for this consumer; returns what it failed with instead of throwing.</summary>
    private async Task<Exception?> ReadIntoReadAheadAsync(IDatabase db, int partition, IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait)
    {
        try
        {
            var reader = await BlockingDatabaseAsync(partition, CancellationToken.None).ConfigureAwait(false);
            var entries = await ReadStreamsAsync(db, reader, [partition], taskNames, consumer, maxCount, wait).ConfigureAwait(false);
            if (entries.Count > 0) AddReadAhead(consumer, entries);
            return null;
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            await PrepareQueuesAsync(taskNames, CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>Where a stream read from comes from: a partition's task queue, or its outbox (TaskName null).</summary>
    private readonly record struct StreamSource(RedisKey Key, int Partition, string? TaskName);

    /// <summary>The task streams of <paramref name="partitions"/>, and their outboxes when the store has several partitions.</summary>
    private List<StreamSource> StreamsOf(int[] partitions, IReadOnlyCollection<string> taskNames)
    {
        var streams = new List<StreamSource>(partitions.Length * (taskNames.Count + 1));
        foreach (var partition in partitions)
        {
            foreach (var name in taskNames) streams.Add(new StreamSource(_layout.Queue(partition, name), partition, name));
            if (_layout.Partitions.Count > 1) streams.Add(new StreamSource(_layout.Outbox(partition), partition, null));
        }
        return streams;
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

    /// <summary>
    /// Parses an XREADGROUP reply (per stream, <c>[key, [[id, [field, value, ...]], ...]]</c>, a map under RESP3) into the
    /// task entries, and the outbox messages by partition.
    /// </summary>
    private static (List<QueueEntry> Entries, Dictionary<int, List<RedisResult>> Messages) ParseReadReply(RedisResult reply, List<StreamSource> streams)
    {
        var entries = new List<QueueEntry>();
        var messages = new Dictionary<int, List<RedisResult>>();
        if (reply.IsNull || reply.Resp2Type != ResultType.Array) return (entries, messages);
        var sources = streams.ToDictionary(stream => (string)stream.Key!, StringComparer.Ordinal);
        var map = reply.Resp3Type == ResultType.Map;
        for (var i = 0; map ? i + 1 < reply.Length : i < reply.Length; i += map ? 2 : 1)
        {
            var (key, streamEntries) = map ? (reply[i], reply[i + 1]) : reply[i].Length >= 2 ? (reply[i][0], reply[i][1]) : (RedisResult.Create(RedisValue.Null), RedisResult.Create(RedisValue.Null));
            if (streamEntries.IsNull || streamEntries.Resp2Type != ResultType.Array || !sources.TryGetValue((string?)key ?? "", out var source)) continue;
            if (source.TaskName is { } taskName)
            {
                for (var e = 0; e < streamEntries.Length; e++) entries.Add(StreamEntries.Parse(taskName, streamEntries[e], source.Partition));
            }
            else
            {
                if (!messages.TryGetValue(source.Partition, out var list)) messages[source.Partition] = list = [];
                for (var e = 0; e < streamEntries.Length; e++) list.Add(streamEntries[e]);
            }
        }
        return (entries, messages);
    }

    public async Task<IReadOnlyList<QueueEntry>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var minIdleMs = (long)Math.Max(0, minIdle.TotalMilliseconds);
        var reclaimed = new List<QueueEntry>();
        // What this consumer read ahead is still its own to hand out: a late keep-alive must not make it run twice.
        HashSet<(int Partition, string TaskName, string EntryId)> readAhead;
        lock (_readAheadGate) readAhead = _readAhead.TryGetValue(consumer, out var kept) ? kept.Select(e => e.Key).ToHashSet() : [];
        foreach (var stream in StreamsOf(Enumerable.Range(0, _layout.Partitions.Count).ToArray(), taskNames))
        {
            if (reclaimed.Count >= maxCount) break;
            cancellationToken.ThrowIfCancellationRequested();
            var cursorKey = (string)stream.Key!;
            var cursor = _reclaimCursors.GetValueOrDefault(cursorKey, "0-0");
            RedisResult reply;
            try
            {
                reply = await db.ExecuteAsync("XAUTOCLAIM", stream.Key, _group, consumer, minIdleMs, cursor, "COUNT", maxCount - reclaimed.Count).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                continue; // nothing was ever read from this queue
            }
            if (reply.Resp2Type != ResultType.Array || reply.Length < 2) continue;
            _reclaimCursors[cursorKey] = (string?)reply[0] ?? "0-0";
            var entries = reply[1];
            if (stream.TaskName is not { } taskName)
            {
                // Messages a forwarder took and never acknowledged (it stopped, or applying failed): applied again,
                // which changes nothing for what was applied already (apply.lua).
                await ApplyOutboxAsync(db, stream.Partition, (RedisResult[])entries!).ConfigureAwait(false);
            }
            else
            {
                for (var i = 0; i < entries.Length; i++)
                {
                    var entry = StreamEntries.Parse(taskName, entries[i], stream.Partition);
                    if (!readAhead.Contains(entry.Key)) reclaimed.Add(entry);
                }
            }
            if (reply.Length >= 3 && reply[2].Length > 0)
            {
                // Entries whose data was deleted: nothing to run; make sure they leave the pending list.
                var deleted = (RedisValue[])reply[2]!;
                await db.StreamAcknowledgeAsync(stream.Key, _group, deleted).ConfigureAwait(false);
            }
        }
        return reclaimed;
    }

    /// <summary>
    /// Applies outbox messages of a partition, each in its target's partition (apply.lua), and acknowledges those
    /// applied. One that fails for a passing reason stays pending and is applied again after the visibility timeout;
    /// one Redis refuses (it cannot be applied, ever) is logged and acknowledged, not retried forever.
    /// </summary>
    private async Task ApplyOutboxAsync(IDatabase db, int partition, IReadOnlyList<RedisResult> messages)
    {
        if (messages.Count == 0) return;
        var done = await ApplyOutboxMessagesAsync(db, partition, messages).ConfigureAwait(false);
        if (done.Length > 0) await db.StreamAcknowledgeAsync(_layout.Outbox(partition), _group, done).ConfigureAwait(false);
    }

    /// <summary>Applies outbox messages (<c>[id, [field, value, ...]]</c> each) without acknowledging them; returns the ids of those done with.</summary>
    internal async Task<RedisValue[]> ApplyOutboxMessagesAsync(IDatabase db, int partition, IReadOnlyList<RedisResult> messages)
    {
        var source = _layout.Partitions.Tag(partition);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var finished = await Task.WhenAll(messages.Select(async Task<RedisValue> (message) =>
        {
            var entryId = message.Length > 0 ? (string?)message[0] : null;
            if (entryId is null) return RedisValue.Null;
            var fields = message.Length > 1 && message[1].Resp2Type == ResultType.Array ? (RedisValue[])message[1]! : [];
            string? operation = null, target = null;
            for (var i = 0; i + 1 < fields.Length; i += 2)
            {
                if (fields[i] == RedisLayout.OutboxOperation) operation = fields[i + 1];
                else if (fields[i] == RedisLayout.OutboxTarget) target = fields[i + 1];
            }
            if (operation is null || string.IsNullOrEmpty(target))
            {
                RedisLog.UnreadableOutboxMessage(_logger, entryId, source);
                return entryId;
            }
            var values = new RedisValue[3 + fields.Length];
            values[0] = _layout.Prefix;
            values[1] = now;
            values[2] = source + "/" + entryId;
            fields.CopyTo(values, 3);
            try
            {
                var reply = await ApplyScript.RunAsync(db, [_layout.Signature(target)], values).ConfigureAwait(false);
                if ((int)reply[0] == 2 && operation == OutboxOperations.Dispatch) RedisLog.ForwardedCallbackMissing(_logger, target);
                return entryId;
            }
            catch (Exception ex) when (Execution.OutcomeApplier.IsTransient(ex))
            {
                RedisLog.OutboxApplyDeferred(_logger, ex, operation, target);
                return RedisValue.Null;
            }
            catch (RedisServerException ex)
            {
                RedisLog.OutboxApplyRefused(_logger, ex, operation, target);
                return entryId;
            }
        })).ConfigureAwait(false);
        return finished.Where(id => !id.IsNull).ToArray();
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
        // One call touches one partition (one slot of a cluster).
        foreach (var chunk in deliveries.GroupBy(d => d.Partition).SelectMany(partition => partition.Chunk(MaxTransitionBatch)))
        {
            var keys = new RedisKey[chunk.Length * 2];
            var values = new RedisValue[4 + chunk.Length];
            values[0] = _group;
            values[1] = consumer;
            values[2] = _layout.Prefix;
            values[3] = ExpiryMilliseconds(activeTtl);
            for (var i = 0; i < chunk.Length; i++)
            {
                keys[2 * i] = _layout.Queue(chunk[i]);
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
        var removed = await Task.WhenAll(StreamsOf(Enumerable.Range(0, _layout.Partitions.Count).ToArray(), taskNames).Select(stream =>
            RemoveIdleConsumersScript.RunAsync(db, [stream.Key], [_group, idleMs, stoppingConsumer ?? ""]))).ConfigureAwait(false);
        return removed.Sum(r => (int)r);
    }

    public async Task<long> TrimQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        if (taskNames.Count == 0) return 0;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        long trimmed = 0;
        for (var partition = 0; partition < _layout.Partitions.Count; partition++)
        {
            var streams = StreamsOf([partition], taskNames).Select(stream => stream.Key).ToArray();
            trimmed += (long)await TrimQueuesScript.RunAsync(db, streams, [_group]).ConfigureAwait(false);
        }
        return trimmed;
    }

    public async Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken)
    {
        if (maxCount < 1) return 0;
        var db = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var moved = 0;
        for (var partition = 0; partition < _layout.Partitions.Count; partition++)
        {
            var delayed = _layout.Delayed(partition);
            var reply = await PromoteDueScript.RunAsync(db, [delayed], [now.ToUnixTimeMilliseconds(), maxCount, _layout.Partitions.Tag(partition)]).ConfigureAwait(false);
            var dropped = (int)reply[1];
            if (dropped > 0) RedisLog.DroppedUnreadableRetries(_logger, dropped, (string)delayed!);
            moved += (int)reply[0];
        }
        return moved;
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

    private bool HasReadAhead(string consumer)
    {
        lock (_readAheadGate) return _readAhead.ContainsKey(consumer);
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
                .GroupBy(k => (k.Consumer, k.Entry.Partition, k.Entry.TaskName))
                .Select(g =>
                {
                    var arguments = new List<object> { _layout.Queue(g.Key.Partition, g.Key.TaskName), RedisLayout.ConsumerGroup, g.Key.Consumer, 0 };
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
