using MageFlow.Signatures;

namespace MageFlow.Backends;

/// <summary>What a queued run carries (rule 17: small envelopes, the consumer composes the input).</summary>
internal enum EnvelopeKind
{
    /// <summary>A user dispatch: the payload is the message.</summary>
    Message = 0,

    /// <summary>A success callback: the payload is the finished task's result, wrapped under the callback's return field.</summary>
    Result = 1,

    /// <summary>An error callback: the payload is the failed task's composed input.</summary>
    ErrorInput = 2,
}

/// <summary>One queued run of a signature.</summary>
/// <param name="SignatureId">The signature to run.</param>
/// <param name="Kind">How <paramref name="Payload"/> becomes the input's base.</param>
/// <param name="Payload">UTF-8 JSON: message, result or failed input.</param>
/// <param name="CallTimeKwargs">A UTF-8 JSON object of call-time kwargs, or empty.</param>
/// <param name="Failure">For <see cref="EnvelopeKind.ErrorInput"/>: what failed.</param>
/// <param name="ContainerKwargs">The kwargs of the chain or swarm that dispatched it (rules 27, 28): call-time kwargs below <paramref name="CallTimeKwargs"/>.</param>
/// <param name="OuterBase">A swarm item's swarm message: the base the item's own message is deep-merged over (rule 28).</param>
/// <param name="TraceParent">The W3C <c>traceparent</c> of the span that queued the run (a producer's send, or the run
/// that fired this callback, chain step or swarm item): the run's span becomes its child, so one trace follows the
/// whole workflow. Null when nothing was traced.</param>
internal sealed record Envelope(
    string SignatureId,
    EnvelopeKind Kind,
    ReadOnlyMemory<byte> Payload,
    ReadOnlyMemory<byte> CallTimeKwargs = default,
    TaskFailure? Failure = null,
    ReadOnlyMemory<byte> ContainerKwargs = default,
    ReadOnlyMemory<byte> OuterBase = default,
    string? TraceParent = null)
{
    // What most runs (a task's, a callback's) carry none of, kept apart: an envelope without them is 64 bytes, not 112,
    // and every run has one or two (docs/redis-v2-design.md §17).
    private readonly Rare? _rare = Rare.Of(CallTimeKwargs, Failure, ContainerKwargs, OuterBase);

    public ReadOnlyMemory<byte> CallTimeKwargs
    {
        get => _rare?.CallTimeKwargs ?? default;
        init => _rare = Rare.Of(value, Failure, ContainerKwargs, OuterBase);
    }

    public TaskFailure? Failure
    {
        get => _rare?.Failure;
        init => _rare = Rare.Of(CallTimeKwargs, value, ContainerKwargs, OuterBase);
    }

    public ReadOnlyMemory<byte> ContainerKwargs
    {
        get => _rare?.ContainerKwargs ?? default;
        init => _rare = Rare.Of(CallTimeKwargs, Failure, value, OuterBase);
    }

    public ReadOnlyMemory<byte> OuterBase
    {
        get => _rare?.OuterBase ?? default;
        init => _rare = Rare.Of(CallTimeKwargs, Failure, ContainerKwargs, value);
    }

    private sealed record Rare(ReadOnlyMemory<byte> CallTimeKwargs, TaskFailure? Failure, ReadOnlyMemory<byte> ContainerKwargs, ReadOnlyMemory<byte> OuterBase)
    {
        public static Rare? Of(ReadOnlyMemory<byte> callTimeKwargs, TaskFailure? failure, ReadOnlyMemory<byte> containerKwargs, ReadOnlyMemory<byte> outerBase) =>
            callTimeKwargs.IsEmpty && failure is null && containerKwargs.IsEmpty && outerBase.IsEmpty
                ? null
                : new(callTimeKwargs, failure, containerKwargs, outerBase);
    }
}

/// <summary>An entry taken from a task's queue and not yet acknowledged: a good delivery or a malformed entry.</summary>
/// <param name="TaskName">The queue (stream) it came from.</param>
/// <param name="EntryId">The backend's id of the queue entry, used to acknowledge it.</param>
internal abstract record QueueEntry(string TaskName, string EntryId)
{
    /// <summary>Which partition of the store holds its queue (Redis, docs/redis-v2-design.md §3); 0 for a backend without partitions.</summary>
    public int Partition { get; init; }

    /// <summary>What tells it from every other entry of the store: entry ids are unique within one queue of one partition only.</summary>
    public (int Partition, string TaskName, string EntryId) Key => (Partition, TaskName, EntryId);
}

/// <summary>A readable entry: the only kind the transitions accept.</summary>
/// <param name="TaskName">The queue (stream) it came from.</param>
/// <param name="EntryId">The backend's id of the queue entry, used to acknowledge it.</param>
/// <param name="Envelope">The run it carries.</param>
/// <param name="QueuedAt">When the entry was queued (for the queue-wait metric); default when unknown.</param>
internal sealed record Delivery(string TaskName, string EntryId, Envelope Envelope, DateTimeOffset QueuedAt = default) : QueueEntry(TaskName, EntryId);

/// <summary>An entry that could not be read; the worker logs it and acknowledges it, nothing else.</summary>
/// <param name="TaskName">The queue (stream) it came from.</param>
/// <param name="EntryId">The backend's id of the entry; empty when even that could not be read.</param>
/// <param name="Reason">Why it could not be read.</param>
internal sealed record MalformedEntry(string TaskName, string EntryId, string Reason) : QueueEntry(TaskName, EntryId);

/// <summary>An entry a read took, with its start when the read started it too (<see cref="IMageBackend.ReadAndStartAsync"/>).</summary>
/// <param name="Entry">What was read.</param>
/// <param name="Started">The start transition's outcome; null when the entry is not started yet, or when its reply could
/// not be read.</param>
/// <param name="StartUnreadable">The entry was started but the start's reply cannot be read (as
/// <see cref="IMageBackend.StartAsync"/> would throw it).</param>
internal readonly record struct TakenEntry(QueueEntry Entry, StartOutcome? Started = null, InvalidDataException? StartUnreadable = null)
{
    /// <summary>The read (or completion) that took the entry also started it.</summary>
    public bool IsStarted => Started is not null || StartUnreadable is not null;

    public static TakenEntry[] Unstarted(IReadOnlyList<QueueEntry> entries)
    {
        var taken = new TakenEntry[entries.Count];
        for (var i = 0; i < taken.Length; i++) taken[i] = new TakenEntry(entries[i]);
        return taken;
    }
}

/// <summary>How long signatures live: active ones from their last activity, finished ones after finishing (0 deletes).</summary>
internal readonly record struct SignatureLifetimes(TimeSpan Active, TimeSpan Done)
{
    /// <summary>A finished signature someone waits on is kept at least this long, whatever the done TTL, so the waiter can read it.</summary>
    public static readonly TimeSpan AwaitedMinimum = TimeSpan.FromMinutes(1);
}

/// <summary>What the start transition found.</summary>
internal enum StartResult
{
    /// <summary>The signature is now Active with its attempt count incremented; run it.</summary>
    Started,

    /// <summary>The signature no longer exists: the entry was acknowledged (rule 10).</summary>
    Missing,

    /// <summary>The signature is not Pending/Active: the entry was acknowledged (rule 13).</summary>
    NotRunnable,

    /// <summary>The signature is Suspended or Interrupted: the run was saved on it for resume and the entry acknowledged (rule 24).</summary>
    Parked,

    /// <summary>The stored signature is not one MageFlow wrote (wrong type, required fields missing): the entry was acknowledged.</summary>
    Corrupt,
}

/// <summary>What a start transition did; a start that started the run is a <see cref="StartedRun"/>.</summary>
/// <param name="Result">What happened.</param>
/// <param name="Problem">For <see cref="StartResult.Corrupt"/>: what is wrong with the stored signature.</param>
/// <param name="FoundStatus">For <see cref="StartResult.NotRunnable"/> and <see cref="StartResult.Parked"/>: the signature's status.</param>
internal record StartOutcome(StartResult Result, string? Problem = null, SignatureStatus FoundStatus = default)
{
    /// <summary>The run, when it was started.</summary>
    public StartedRun? Run => this as StartedRun;
}

/// <summary>
/// A start that started the run, with what the run needs of its signature after the transition: not the stored record
/// (a run reads six of its fields; the record's twenty, and an outcome object besides, were ~0.6 KB of what a pair of
/// runs allocated, docs/redis-v2-design.md §17).
/// </summary>
/// <param name="Id">The signature's id.</param>
/// <param name="TaskName">The task it runs.</param>
/// <param name="ReturnField">The member of its message that receives the result it is a success callback for.</param>
/// <param name="Attempts">Attempts so far, this one included.</param>
/// <param name="Kwargs">Its bound kwargs: top-level wire names with UTF-8 JSON values.</param>
/// <param name="SuccessCallbacks">How many success callbacks it has.</param>
/// <param name="ErrorCallbacks">How many error callbacks it has.</param>
/// <param name="Stalls">How many times in a row this very entry was started and never finished: take-overs from workers that stopped answering.</param>
internal sealed record StartedRun(
    string Id,
    string TaskName,
    string ReturnField,
    int Attempts,
    IReadOnlyList<KeyValuePair<string, byte[]>> Kwargs,
    int SuccessCallbacks,
    int ErrorCallbacks,
    int Stalls = 0) : StartOutcome(StartResult.Started)
{
    /// <summary>The run of a stored signature (a backend that keeps whole records: in memory).</summary>
    public static StartedRun Of(SignatureRecord signature, int stalls) => new(signature.Id, signature.TaskName, signature.ReturnField, signature.Attempts,
        signature.Kwargs, signature.SuccessCallbackIds.Count, signature.ErrorCallbackIds.Count, stalls);
}

/// <summary>What a finishing transition did.</summary>
/// <param name="Applied">False when the signature was already finished or gone (a duplicate run), or paused: nothing was dispatched.</param>
/// <param name="MissingCallbackIds">Callback signatures that no longer existed and so were not dispatched.</param>
/// <param name="Saved">The signature is Suspended or Interrupted: the outcome was saved on it, for resume to apply (contract §5).</param>
internal sealed record FinishOutcome(bool Applied, IReadOnlyList<string> MissingCallbackIds, bool Saved = false)
{
    // The outcomes without details, shared (a record is immutable; one that takes a run is a copy, with Next).

    /// <summary>Applied, and every callback was found.</summary>
    public static FinishOutcome Done { get; } = new(true, []);

    /// <summary>Not applied: a duplicate run, or the signature was gone.</summary>
    public static FinishOutcome NotApplied { get; } = new(false, []);

    /// <summary>The signature is paused: the outcome was saved on it.</summary>
    public static FinishOutcome SavedWhilePaused { get; } = new(false, [], Saved: true);

    /// <summary>The entry a completion took for the slot offered with it, with its start when started (<see cref="IMageBackend.CompleteAndTakeAsync"/>).</summary>
    public TakenEntry? Next { get; init; }
}

/// <summary>
/// A worker's offer, with a completion, of the run slot the completed run frees: the backend may take one new entry
/// of the worker's queues for it and start it in the same step (<see cref="IMageBackend.CompleteAndTakeAsync"/>).
/// </summary>
/// <param name="TaskNames">The worker's queues.</param>
/// <param name="Consumer">The worker's consumer name.</param>
/// <param name="ActiveTtl">How long a started signature and its callbacks are kept from now (rule 19).</param>
internal sealed record SlotOffer(IReadOnlyList<string> TaskNames, string Consumer, TimeSpan ActiveTtl);

/// <summary>The lifecycle operations of contract §5.</summary>
internal enum LifecycleAction
{
    Suspend,
    Interrupt,
    Resume,
    Cancel,

    /// <summary>A Failed task (not a chain, swarm, step or item) runs again with its failed input: Pending, attempts from 0.</summary>
    Retry,
}

/// <summary>What a lifecycle operation found and left.</summary>
/// <param name="Found">False when the signature does not exist.</param>
/// <param name="Before">The status it had.</param>
/// <param name="After">The status it has now; equal to <paramref name="Before"/> when nothing changed (a finished signature, a second resume).</param>
internal readonly record struct LifecycleChange(bool Found, SignatureStatus Before, SignatureStatus After);

/// <summary>An item to add to a swarm: its signature, and its own message when added with <c>RunInSwarmAsync</c>.</summary>
internal sealed record SwarmItem(string Id, byte[]? Message);

/// <summary>What adding to or closing a swarm did.</summary>
internal enum SwarmChangeResult
{
    Done,
    SwarmMissing,
    Full,
    Closed,
    ItemMissing,
    ItemTaken,
}

/// <param name="Result">What happened.</param>
/// <param name="Detail">For <see cref="SwarmChangeResult.Closed"/>: why; for the item results: the item's id.</param>
/// <param name="Added">Items in the swarm (for <see cref="SwarmChangeResult.Full"/>).</param>
internal readonly record struct SwarmChange(SwarmChangeResult Result, string? Detail = null, int Added = 0);

/// <summary>The store's notifications; each is a hint, never the only way state is learned.</summary>
internal enum SignalKind
{
    /// <summary>A signature was interrupted or canceled: a worker running its body cancels it (rule 25).</summary>
    StopRun,

    /// <summary>A signature someone waits on finished (Done, Failed or Canceled).</summary>
    Finished,
}

/// <summary>A task definition as workers publish it, so producer-only processes can sign by name (rule 14).</summary>
internal sealed record TaskDefinition(string Name, string MessageTypeId, string ReturnField, int Retries);

/// <summary>
/// Storage and delivery for signatures. The Redis and in-memory backends are twins behind this interface:
/// every state transition is one atomic step (on Redis, one Lua script = one round trip), and everything
/// above it (composition, retries, callbacks' inputs) lives in the shared engine.
/// </summary>
internal interface IMageBackend : IAsyncDisposable
{
    /// <summary>Names the storage (Redis endpoint, database and key prefix; or one in-memory store): callbacks must live in the same one.</summary>
    string StoreId { get; }

    /// <summary>
    /// A new signature id, placed near the signatures it will touch (its callbacks, a chain's steps): on Redis with
    /// several partitions, in the partition they share, so its transitions reach them in one step.
    /// </summary>
    string NewSignatureId(IReadOnlyList<string> related);

    /// <summary>A cheap round trip to the store (Redis: PING on the backend's own connection), for health checks; throws when it does not answer.</summary>
    Task PingAsync(CancellationToken cancellationToken);

    // ---- signatures (producer side) ----

    /// <summary>Stores a new signature, expiring after <paramref name="ttl"/>.</summary>
    Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken);

    Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken);

    /// <summary>Replaces each named top-level kwarg atomically (rule 5). False when the signature is gone.</summary>
    Task<bool> UpdateKwargsAsync(string id, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, CancellationToken cancellationToken);

    /// <summary>Queues a run on the task's queue.</summary>
    Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken);

    /// <summary>
    /// Dispatches a run of any signature in one step: a task's run is queued; a chain dispatches its first step; a
    /// swarm starts (its message becomes every item's base) and fills. With <paramref name="awaited"/>, marks it
    /// awaited first (its finish then stores the result and sends <see cref="SignalKind.Finished"/>). Returns the
    /// status found, null when the signature does not exist; nothing is dispatched for a finished one.
    /// </summary>
    Task<SignatureStatus?> DispatchSignatureAsync(Envelope envelope, bool awaited, SignatureLifetimes lifetimes, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a chain or swarm, claiming a chain's steps (each must exist and be no other container's step or item)
    /// in the same step. Returns null, or why nothing was stored.
    /// </summary>
    Task<string?> CreateContainerAsync(SignatureRecord container, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Adds items to a swarm, all or none (rule 28, contract §7), and fills it.</summary>
    Task<SwarmChange> AddToSwarmAsync(string swarmId, IReadOnlyList<SwarmItem> items, SignatureLifetimes lifetimes, CancellationToken cancellationToken);

    /// <summary>Closes a swarm; it completes at once when every item has finished (rule 29).</summary>
    Task<SwarmChange> CloseSwarmAsync(string swarmId, SignatureLifetimes lifetimes, CancellationToken cancellationToken);

    /// <summary>
    /// Applies a lifecycle operation in one step (contract §5, rules 24-26). Suspend and interrupt pause a
    /// Pending/Active signature (interrupt also pauses a suspended one, and sends <see cref="SignalKind.StopRun"/>);
    /// resume dispatches what was parked, applies a saved outcome, or restores the last status; cancel ends any
    /// unfinished signature, drops what was parked, releases its callbacks and sends <see cref="SignalKind.StopRun"/>.
    /// A finished signature is left as it is.
    /// </summary>
    Task<LifecycleChange> ChangeLifecycleAsync(string id, LifecycleAction action, SignatureLifetimes lifetimes, CancellationToken cancellationToken);

    /// <summary>Every stored signature matching <paramref name="query"/>, in no particular order (read side; not for the hot path).</summary>
    IAsyncEnumerable<SignatureRecord> ListSignaturesAsync(SignatureQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Calls <paramref name="onSignal"/> with the signature id of every <paramref name="kind"/> signal from now until
    /// the returned handle is disposed. Signals can be lost (a dropped connection): users also read the state.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken);

    // ---- task definitions ----

    Task RegisterTaskDefinitionsAsync(IReadOnlyCollection<TaskDefinition> definitions, CancellationToken cancellationToken);

    Task<TaskDefinition?> GetTaskDefinitionAsync(string name, CancellationToken cancellationToken);

    // ---- delivery (worker side) ----

    /// <summary>Creates the queues and consumer groups of the given tasks if missing.</summary>
    Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken);

    /// <summary>Reads up to <paramref name="maxCount"/> new entries across the given queues, waiting up to <paramref name="wait"/> when none are ready.</summary>
    Task<IReadOnlyList<QueueEntry>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken);

    /// <summary>
    /// Reads as <see cref="ReadAsync"/> does, and where the backend can, starts what it read in the same step (Redis:
    /// one function call while entries are waiting, docs/redis-v2-design.md §13): under load a run then needs one
    /// round trip fewer. An entry returned without its start is started by the caller (<see cref="StartAsync"/>);
    /// one returned with it must not be started again. The start is never cancelled half-way: a call that took and
    /// started entries returns them even when <paramref name="cancellationToken"/> fires meanwhile.
    /// </summary>
    async Task<IReadOnlyList<TakenEntry>> ReadAndStartAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, TimeSpan activeTtl, CancellationToken cancellationToken)
    {
        var entries = await ReadAsync(taskNames, consumer, maxCount, wait, cancellationToken).ConfigureAwait(false);
        return TakenEntry.Unstarted(entries);
    }

    /// <summary>Takes over entries delivered to any consumer and not acknowledged for <paramref name="minIdle"/> (crash recovery).</summary>
    Task<IReadOnlyList<QueueEntry>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken);

    /// <summary>
    /// Marks entries this consumer still holds (running, waiting for a slot, or read ahead) as fresh, so they are not
    /// reclaimed while alive (rule 18), and keeps their signatures and callbacks from expiring (rule 19). Entries
    /// another consumer has taken over are left alone.
    /// </summary>
    /// <returns>The signature ids among them that are Interrupted or Canceled: their bodies must stop (a missed <see cref="SignalKind.StopRun"/>).</returns>
    Task<IReadOnlyList<string>> KeepAliveAsync(IReadOnlyCollection<QueueEntry> held, string consumer, TimeSpan activeTtl, CancellationToken cancellationToken);

    /// <summary>
    /// Removes from the given queues' consumer groups the consumers that hold no entry and have been idle for
    /// <paramref name="idleFor"/> (stopped workers), and <paramref name="stoppingConsumer"/> when it holds none. Returns how many.
    /// </summary>
    Task<int> RemoveIdleConsumersAsync(IReadOnlyCollection<string> taskNames, string? stoppingConsumer, TimeSpan idleFor, CancellationToken cancellationToken);

    /// <summary>
    /// Removes from the given queues the entries their consumers have finished with, for a backend that keeps them
    /// after acknowledgement (one trim for many entries is cheaper than a delete per entry). Never removes an entry
    /// that is pending or not yet delivered. Returns how many were removed.
    /// </summary>
    Task<long> TrimQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken);

    /// <summary>
    /// Per task among <paramref name="taskNames"/> whose queue holds an entry not yet acknowledged (waiting to be read,
    /// or read and not finished): when the oldest such entry was queued. Tasks with none are left out. Delayed
    /// retries are not in a queue until their time comes.
    /// </summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOldestUnacknowledgedAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken);

    /// <summary>
    /// When the oldest message between partitions that no worker has applied yet was written (a Redis store of several
    /// partitions: docs/redis-v2-design.md §4); null when none waits, or the store has no partitions.
    /// </summary>
    Task<DateTimeOffset?> GetOldestUnforwardedAsync(CancellationToken cancellationToken);

    /// <summary>Moves delayed retries whose time has come back to their queues. Returns how many moved.</summary>
    Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken);

    // ---- transitions: each one atomic, each acknowledging the entry it consumes ----

    /// <summary>
    /// Start: if the signature exists and is Pending/Active, make it Active (last status recorded when it
    /// changes), increment its attempts, note the entry as running (a second start of the same entry counts a
    /// stall) and when it started, keep it and its callbacks for <paramref name="activeTtl"/> from now, and return
    /// it; if it is Suspended or Interrupted, park the run on it (rule 24); otherwise acknowledge the entry.
    /// </summary>
    Task<StartOutcome> StartAsync(Delivery delivery, TimeSpan activeTtl, CancellationToken cancellationToken);

    /// <summary>
    /// Complete (rule 6, 8): if Suspended or Interrupted, save the result for resume (contract §5); if Active, mark Done, queue every success callback once with <paramref name="resultJson"/>
    /// (kind <see cref="EnvelopeKind.Result"/>; each kept for the active lifetime), release error callbacks (and
    /// every callback below them) and the signature to the done lifetime (zero deletes), and acknowledge the
    /// entry — all in one step.
    /// </summary>
    Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="CompleteAsync"/>, and where the backend can, in the same step the next run for the slot the
    /// completed run frees: one new entry of <paramref name="offer"/>'s queues, taken and started as
    /// <see cref="ReadAndStartAsync"/> does (Redis: inside the completion's function call, docs/redis-v2-design.md §15),
    /// so a callback this completion queues can start without a read and a start of its own. A taken entry is the
    /// caller's to run (or to start, when returned without its start), in the offered slot
    /// (<see cref="FinishOutcome.Next"/>). Without an offer it completes and takes nothing. A worker's hot path: the
    /// value task may come from a pool, so it is awaited once.
    /// </summary>
    ValueTask<FinishOutcome> CompleteAndTakeAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, SlotOffer? offer, CancellationToken cancellationToken) =>
        new(CompleteAsync(delivery, resultJson, lifetimes, cancellationToken));

    /// <summary>
    /// Fail (rule 7, 8): if Suspended or Interrupted, save the failure for resume (contract §5); if Active or Pending, mark Failed, queue every error callback once with <paramref name="failedInput"/>
    /// (kind <see cref="EnvelopeKind.ErrorInput"/>, with <paramref name="failure"/>), release success callbacks (and every
    /// callback below them) and the signature to the done lifetime, and acknowledge the entry — all in one step.
    /// </summary>
    Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, SignatureLifetimes lifetimes, CancellationToken cancellationToken);

    /// <summary>
    /// Retry later (rule 11): acknowledge the entry and park one copy of it until <paramref name="due"/>; the
    /// signature and its callbacks are kept until <paramref name="activeTtl"/> after that. Status stays Active.
    /// A no-op when the entry is no longer pending (another worker finished it). A suspended task is not retried
    /// (rule 26): when Suspended or Interrupted the run is parked instead; when Canceled it is dropped.
    /// </summary>
    Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, TimeSpan activeTtl, CancellationToken cancellationToken);

    /// <summary>
    /// Hands a started run back at shutdown: the attempt is not counted, the start is not a stall, and the entry
    /// stays pending for another worker to reclaim at once.
    /// </summary>
    Task ReleaseAsync(Delivery delivery, string consumer, CancellationToken cancellationToken);

    /// <summary>
    /// A body stopped by interrupt or cancel (rule 25): when Suspended or Interrupted the run is parked for resume and
    /// the attempt not counted; when resumed meanwhile it is queued again; otherwise (canceled, finished, gone) it
    /// is dropped. The entry is acknowledged; no callback fires.
    /// </summary>
    Task ParkAsync(Delivery delivery, CancellationToken cancellationToken);

    /// <summary>Acknowledges (and removes) a malformed entry without any state change.</summary>
    Task AcknowledgeAsync(MalformedEntry entry, CancellationToken cancellationToken);
}
