using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// Reading and starting in one step (read_and_start.lua, docs/redis-v2-design.md §13): while entries are waiting, a
/// worker's read starts what it takes, so a run needs one round trip fewer than a read and then a start. Only when
/// nothing waits does the worker fall back to the blocking read, whose entries it starts itself.
/// </summary>
internal sealed partial class RedisBackend
{
    private static readonly RedisScript ReadAndStartScript = RedisScript.FromResource("read_and_start");

    // Turned on each call: the partition and the task queue a read-and-start (or a completion's take) begins with, so none
    // always waits behind another.
    private uint _readAndStartTurn;

    public async Task<IReadOnlyList<TakenEntry>> ReadAndStartAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        cancellationToken.ThrowIfCancellationRequested();
        if (taskNames.Count == 0 || maxCount < 1) return [];

        // What an earlier read took and kept goes first, as ReadAsync hands it out.
        var readAhead = TakeReadAhead(consumer, taskNames, maxCount);
        if (readAhead.Count > 0) return TakenEntry.Unstarted(readAhead);

        var taken = await ReadAndStartWaitingAsync(taskNames as IReadOnlyList<string> ?? taskNames.ToArray(), consumer, maxCount, ExpiryMilliseconds(activeTtl)).ConfigureAwait(false);
        if (taken.Count > 0) return taken;
        return TakenEntry.Unstarted(await ReadAsync(taskNames, consumer, maxCount, wait, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// The entries waiting in the queues, up to <paramref name="maxCount"/>, each started: one call per partition, from
    /// a partition turned each time, until the count is reached or every partition was read. Not cancellable: a call
    /// abandoned after the script ran would leave its runs started and nobody running them.
    /// </summary>
    private async Task<List<TakenEntry>> ReadAndStartWaitingAsync(IReadOnlyList<string> taskNames, string consumer, int maxCount, long activeTtlMs)
    {
        var db = await DatabaseAsync(CancellationToken.None).ConfigureAwait(false);
        var turn = Interlocked.Increment(ref _readAndStartTurn);
        var partitions = _layout.Partitions.Count;
        var taken = new List<TakenEntry>();
        for (var i = 0; i < partitions && taken.Count < maxCount; i++)
        {
            var partition = (int)((turn + i) % partitions);
            try
            {
                await ReadAndStartPartitionAsync(db, partition, taskNames, (int)(turn % taskNames.Count), consumer, maxCount - taken.Count, activeTtlMs, taken).ConfigureAwait(false);
            }
            catch (Exception ex) when (taken.Count > 0)
            {
                // Runs started already must reach the worker; this partition is read again next time.
                RedisLog.AfterStartsFailed(_logger, ex, "reading", _layout.Partitions.Tag(partition));
                break;
            }
        }
        return taken;
    }

    private async Task ReadAndStartPartitionAsync(IDatabase db, int partition, IReadOnlyList<string> taskNames, int firstQueue, string consumer, int maxCount, long activeTtlMs, List<TakenEntry> taken)
    {
        var withOutbox = _layout.Partitions.Count > 1;
        var arguments = ReadAndStartScript.Arguments(taskNames.Count + (withOutbox ? 1 : 0), 8);
        for (var q = 0; q < taskNames.Count; q++) arguments.Key(_layout.Queue(partition, taskNames[(firstQueue + q) % taskNames.Count]));
        if (withOutbox) arguments.Key(_layout.Outbox(partition));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        arguments.Values(_group, consumer, _layout.Prefix, now, maxCount, activeTtlMs, taskNames.Count, withOutbox ? maxCount : 0);
        var reply = await ReadAndStartScript.RunAsync(db, arguments).ConfigureAwait(false);

        taken.EnsureCapacity(taken.Count + reply.Length - 2);
        for (var i = 2; i < reply.Length; i++)
            taken.Add(TakenOf((ReadOnlyMemory<byte>)(RedisValue)reply[i], taskNames, firstQueue, partition));

        try
        {
            // Messages not applied stay pending and are applied again once reclaimed.
            await ApplyOutboxAsync(db, partition, (RedisResult[])reply[0]!).ConfigureAwait(false);
            if ((string?)reply[1] is { Length: > 0 } problem) await HandleUnreadableQueueAsync(problem, taskNames, partition).ConfigureAwait(false);
        }
        catch (Exception ex) when (taken.Count > 0)
        {
            RedisLog.AfterStartsFailed(_logger, ex, "applying messages between partitions or making a queue again", _layout.Partitions.Tag(partition));
        }
    }

    /// <summary>A queue whose group is gone (deleted, or Redis restarted empty) is made again; anything else is said.</summary>
    private async Task HandleUnreadableQueueAsync(string problem, IReadOnlyCollection<string> taskNames, int partition)
    {
        if (problem.StartsWith("NOGROUP", StringComparison.Ordinal)) await PrepareQueuesAsync(taskNames, CancellationToken.None).ConfigureAwait(false);
        else RedisLog.QueueUnreadable(_logger, _layout.Partitions.Tag(partition), problem);
    }

    /// <summary>One entry taken (take_runs in common.lua): <c>{stream index, entry id, packed fields or "", packed start reply or ""}</c>, one packed value.</summary>
    private static TakenEntry TakenOf(ReadOnlyMemory<byte> packed, IReadOnlyList<string> taskNames, int firstQueue, int partition)
    {
        var strings = new PackedStrings(packed.Span);
        if (strings.Count != 4) throw new InvalidDataException($"An entry of read_and_start.lua's reply holds {strings.Count} strings, not 4.");
        var queue = int.Parse(strings.Next(), NumberStyles.None, CultureInfo.InvariantCulture);
        var taskName = taskNames[(firstQueue + queue - 1) % taskNames.Count];
        var entryId = Encoding.UTF8.GetString(strings.Next());
        var fields = packed[strings.NextRange()];
        var started = packed[strings.NextRange()];
        var entry = fields.IsEmpty ? StreamEntries.Deleted(taskName, entryId, partition) : EntryOf(taskName, entryId, fields, partition);
        // The script starts only what StreamEntries reads as a delivery (a test pins that the two agree).
        return !started.IsEmpty && entry is Delivery delivery ? StartedOf(delivery, started.Span) : new TakenEntry(entry);
    }

    private static QueueEntry EntryOf(string taskName, string entryId, ReadOnlyMemory<byte> fields, int partition)
    {
        try
        {
            return StreamEntries.ParsePacked(taskName, entryId, fields, partition);
        }
        catch (InvalidDataException ex)
        {
            return new MalformedEntry(taskName, entryId, ex.Message) { Partition = partition };
        }
    }

    /// <summary>The entry with the start the script made, as <see cref="StartAsync"/> would return or throw it.</summary>
    private static TakenEntry StartedOf(Delivery delivery, ReadOnlySpan<byte> reply)
    {
        try
        {
            return new TakenEntry(delivery, StartReply.Parse(delivery.Envelope.SignatureId, reply));
        }
        catch (InvalidDataException ex)
        {
            return new TakenEntry(delivery, StartUnreadable: ex);
        }
    }
}
