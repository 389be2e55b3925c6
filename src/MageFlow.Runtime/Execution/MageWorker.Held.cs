using MageFlow.Backends;

namespace MageFlow.Execution;

/// <summary>The entries a worker holds: each with the source of its run's stop, by queue and entry id.</summary>
internal sealed partial class MageWorker
{
    /// <summary>
    /// An entry this worker holds, and the source of its run's stop: fired at shutdown, and when the signature is
    /// interrupted or canceled. One object per held entry, not a holder and a source linked to the shutdown's (with
    /// its registration there): every run is held, so that was ~0.1 KB per pair of runs (docs/redis-v2-design.md §17).
    /// </summary>
    private sealed class Held(QueueEntry entry, long keptAliveAt) : CancellationTokenSource
    {
        public QueueEntry Entry { get; } = entry;

        /// <summary>When it was read, reclaimed or last kept alive (<see cref="TimeProvider.GetTimestamp"/>).</summary>
        public long KeptAliveAt { get; set; } = keptAliveAt;

        public bool Running { get; set; }

        public void RequestStop()
        {
            // Asynchronously: the body's cancellation callbacks must not run on the thread that delivers signals.
            try { _ = CancelAsync(); }
            catch (ObjectDisposedException) { } // the run finished meanwhile
        }
    }

    /// <summary>
    /// The held entries by key, under a lock: a held entry is added and removed once per run, and a
    /// <c>ConcurrentDictionary</c> makes a node each time (~60 B per run) where a <see cref="Dictionary{TKey, TValue}"/>
    /// reuses its freed slots (docs/redis-v2-design.md §18). Walks (stops, keep-alive, shutdown) take a copy.
    /// </summary>
    private sealed class HeldEntries
    {
        private readonly Dictionary<(int Partition, string TaskName, string EntryId), Held> _byKey = [];
        private readonly Lock _lock = new();

        public bool IsEmpty
        {
            get
            {
                lock (_lock) return _byKey.Count == 0;
            }
        }

        public Held? Find((int Partition, string TaskName, string EntryId) key)
        {
            lock (_lock) return _byKey.GetValueOrDefault(key);
        }

        public bool Contains((int Partition, string TaskName, string EntryId) key)
        {
            lock (_lock) return _byKey.ContainsKey(key);
        }

        public void Set(Held held)
        {
            lock (_lock) _byKey[held.Entry.Key] = held;
        }

        /// <summary>Removes the entry of <paramref name="key"/> and returns it; null when it was not held.</summary>
        public Held? Remove((int Partition, string TaskName, string EntryId) key)
        {
            lock (_lock) return _byKey.Remove(key, out var held) ? held : null;
        }

        public Held[] Snapshot()
        {
            lock (_lock) return [.. _byKey.Values];
        }
    }
}
