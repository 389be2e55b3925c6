using System.Buffers;
using System.Text.Json;
using MageFlow.Composition;
using MageFlow.Signatures;

namespace MageFlow.Backends.InMemory;

/// <summary>
/// Chains and swarms (rules 27-30): dispatching any signature, a container taking its children's outcomes, and a
/// swarm's fill — each inside the transition that causes it, under the one lock, as the Redis scripts do it.
/// </summary>
internal sealed partial class InMemoryBackend
{
    public Task<SignatureStatus?> DispatchSignatureAsync(Envelope envelope, bool awaited, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var signals = new List<(SignalKind, string)>();
        SignatureStatus status;
        lock (_gate)
        {
            if (Find(envelope.SignatureId) is not { } stored) return Task.FromResult<SignatureStatus?>(null);
            status = stored.Record.Status;
            if (status.IsFinished()) return Task.FromResult<SignatureStatus?>(status);
            if (awaited) stored.Awaited = true;
            Dispatch(stored, envelope, lifetimes, signals);
        }
        Raise(signals);
        return Task.FromResult<SignatureStatus?>(status);
    }

    public Task<string?> CreateContainerAsync(SignatureRecord container, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Sweep();
            var steps = new List<StoredSignature>();
            foreach (var id in container.ChildIds)
            {
                if (Find(id) is not { } step) return Task.FromResult<string?>($"step {id} does not exist");
                if (step.Record.ParentId is { } parent) return Task.FromResult<string?>($"step {step.Record} is already a step or item of {parent}");
                if (step.Record.Status.IsFinished()) return Task.FromResult<string?>($"step {step.Record} is {step.Record.Status}, and a finished signature never runs again");
                if (steps.Contains(step)) return Task.FromResult<string?>($"step {step.Record} is given twice");
                steps.Add(step);
            }
            var stored = new StoredSignature(container);
            if (container.Kind == SignatureKind.Swarm) stored.Swarm = new SwarmData();
            _signatures[container.Id] = stored;
            SetExpiry(stored, time.GetUtcNow() + ttl);
            foreach (var step in steps) step.Record = step.Record with { ParentId = container.Id };
            return Task.FromResult<string?>(null);
        }
    }

    public Task<SwarmChange> AddToSwarmAsync(string swarmId, IReadOnlyList<SwarmItem> items, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var signals = new List<(SignalKind, string)>();
        SwarmChange change;
        lock (_gate)
        {
            change = Add(swarmId, items, lifetimes, signals);
        }
        Raise(signals);
        return Task.FromResult(change);
    }

    private SwarmChange Add(string swarmId, IReadOnlyList<SwarmItem> items, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        if (Find(swarmId) is not { Swarm: { } data } swarm) return new SwarmChange(SwarmChangeResult.SwarmMissing);
        if (swarm.Record.Status.IsFinished()) return new SwarmChange(SwarmChangeResult.Closed, $"it is {swarm.Record.Status}");
        if (data.Closed) return new SwarmChange(SwarmChangeResult.Closed, "it was closed");
        var options = swarm.Record.Swarm!.Options;
        if (options.MaxTasks is { } max && data.Items.Count + items.Count > max) return new SwarmChange(SwarmChangeResult.Full, Added: data.Items.Count);
        var adding = new List<StoredSignature>();
        foreach (var item in items)
        {
            if (Find(item.Id) is not { } stored) return new SwarmChange(SwarmChangeResult.ItemMissing, item.Id);
            if (stored.Record.ParentId is not null || item.Id == swarmId || adding.Contains(stored)) return new SwarmChange(SwarmChangeResult.ItemTaken, item.Id);
            adding.Add(stored);
        }
        var until = time.GetUtcNow() + lifetimes.Active;
        for (var i = 0; i < items.Count; i++)
        {
            adding[i].Record = adding[i].Record with { ParentId = swarmId };
            KeepWithCallbacks(adding[i], until);
            data.Items.Add(items[i].Id);
            // Items with their own message, and every item once the swarm started, may run; the others wait for RunAsync.
            if (items[i].Message is not null || data.Started) data.Ready.Enqueue(items[i]);
            else data.Waiting.Add(items[i]);
        }
        if (options.MaxTasks is { } limit && options.CloseOnMaxTasks && data.Items.Count >= limit) data.Closed = true;
        KeepWithCallbacks(swarm, until);
        Fill(swarm, lifetimes, signals);
        return new SwarmChange(SwarmChangeResult.Done);
    }

    public Task<SwarmChange> CloseSwarmAsync(string swarmId, SignatureLifetimes lifetimes, CancellationToken cancellationToken)
    {
        var signals = new List<(SignalKind, string)>();
        lock (_gate)
        {
            if (Find(swarmId) is not { Swarm: { } data } swarm) return Task.FromResult(new SwarmChange(SwarmChangeResult.SwarmMissing));
            if (!data.Closed && !swarm.Record.Status.IsFinished())
            {
                data.Closed = true;
                CompleteSwarmIfDue(swarm, lifetimes, signals);
            }
        }
        Raise(signals);
        return Task.FromResult(new SwarmChange(SwarmChangeResult.Done));
    }

    /// <summary>Dispatches a run of any signature (under the lock): queue a task's run, start a chain or a swarm.</summary>
    private void Dispatch(StoredSignature stored, Envelope envelope, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        var until = time.GetUtcNow() + lifetimes.Active;
        if (stored.ExpiresAt < until) SetExpiry(stored, until);
        envelope = envelope with { SignatureId = stored.Record.Id };
        switch (stored.Record.Kind)
        {
            case SignatureKind.Chain:
                StartChain(stored, envelope, lifetimes, signals);
                break;
            case SignatureKind.Swarm:
                StartSwarm(stored, envelope, lifetimes, signals);
                break;
            default:
                Enqueue(stored.Record.TaskName, envelope);
                break;
        }
    }

    /// <summary>Rule 27: the chain's run becomes its first step's run, with the chain's kwargs as call-time kwargs.</summary>
    private void StartChain(StoredSignature chain, Envelope envelope, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        MarkRunning(chain);
        DispatchStep(chain, 0, envelope, lifetimes, signals);
    }

    private void DispatchStep(StoredSignature chain, int index, Envelope envelope, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        var stepId = chain.Record.ChildIds[index];
        if (Find(stepId) is not { } step)
        {
            var failure = new TaskFailure(chain.Record.Id, chain.Record.TaskName, $"Chain {chain.Record.Id}: its step {index + 1}, signature {stepId}, no longer exists (expired or deleted).")
            {
                Kind = TaskFailureKind.InvalidInput,
            };
            Apply(chain, new SavedOutcome(envelope.Kind == EnvelopeKind.Message ? envelope.Payload.ToArray() : "{}"u8.ToArray(), failure), lifetimes, signals);
            return;
        }
        Dispatch(step, envelope with { ContainerKwargs = KwargsJson(chain) }, lifetimes, signals);
    }

    /// <summary>Rule 28: the swarm's message becomes every item's base; items added so far may run.</summary>
    private void StartSwarm(StoredSignature swarm, Envelope envelope, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        var data = swarm.Swarm!;
        if (data.Started) return; // started once; a second run changes nothing
        MarkRunning(swarm);
        var message = envelope.Kind == EnvelopeKind.Result ? InputComposer.WrapResult(swarm.Record.ReturnField, envelope.Payload.Span) : envelope.Payload.ToArray();
        data.Message = envelope.OuterBase.IsEmpty ? message : InputComposer.Compose(envelope.OuterBase, [], message);
        data.Started = true;
        foreach (var item in data.Waiting) data.Ready.Enqueue(item);
        data.Waiting.Clear();
        Fill(swarm, lifetimes, signals);
        CompleteSwarmIfDue(swarm, lifetimes, signals);
    }

    /// <summary>A container whose first run arrives: Active, or (paused) Active once resumed.</summary>
    private static void MarkRunning(StoredSignature container)
    {
        if (container.Record.Status == SignatureStatus.Pending) Transition(container, SignatureStatus.Active);
        else if (container.Record.Status.IsPaused()) container.Record = container.Record with { LastStatus = SignatureStatus.Active };
    }

    /// <summary>
    /// Rule 30: dispatches waiting items in order while fewer than <see cref="SwarmOptions.MaxConcurrency"/> run. An
    /// item that can no longer start (gone, or finished on its own) counts as a failed item.
    /// </summary>
    private void Fill(StoredSignature swarm, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        var data = swarm.Swarm!;
        var options = swarm.Record.Swarm!.Options;
        while (swarm.Record.Status.IsRunnable() && data.Running < options.MaxConcurrency && data.Ready.TryDequeue(out var item))
        {
            var child = Find(item.Id);
            if (child is null || child.Record.Status.IsFinished())
            {
                var error = child is null ? "it no longer exists (expired or deleted)" : $"it was {child.Record.Status} before the swarm started it";
                RecordItem(swarm, item.Id, null, $"Item {item.Id} of swarm {swarm.Record.Id} did not run: {error}.", lifetimes, signals);
                if (swarm.Record.Status.IsFinished()) return;
                continue;
            }
            data.Running++;
            Dispatch(child, new Envelope(item.Id, EnvelopeKind.Message, item.Message ?? "{}"u8.ToArray(),
                ContainerKwargs: KwargsJson(swarm), OuterBase: data.Message ?? default), lifetimes, signals);
        }
    }

    /// <summary>A step or item finished (inside its own Done/Failed transition): its container moves on.</summary>
    private void ChildFinished(StoredSignature parent, StoredSignature child, SavedOutcome outcome, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        if (parent.Record.Status.IsFinished()) return;
        if (parent.Record.Kind == SignatureKind.Chain)
        {
            var index = IndexOf(parent.Record.ChildIds, child.Record.Id);
            if (outcome.Failure is not null)
            {
                // Rule 27: the chain's error callbacks get the failed step's input; later steps never run.
                ReleaseTree(parent.Record.ChildIds.Skip(index + 1).ToArray(), lifetimes.Done);
                Apply(parent, outcome with { SwarmOutcomes = null }, lifetimes, signals);
            }
            else if (index == parent.Record.ChildIds.Count - 1)
            {
                Apply(parent, new SavedOutcome(outcome.Payload, null), lifetimes, signals);
            }
            else
            {
                DispatchStep(parent, index + 1, new Envelope(parent.Record.ChildIds[index + 1], EnvelopeKind.Result, outcome.Payload), lifetimes, signals);
            }
            return;
        }

        if (parent.Swarm!.Running > 0) parent.Swarm.Running--;
        RecordItem(parent, child.Record.Id, outcome.Failure is null ? outcome.Payload : null, outcome.Failure?.Error, lifetimes, signals);
        if (parent.Record.Status.IsFinished()) return;
        Fill(parent, lifetimes, signals);
        CompleteSwarmIfDue(parent, lifetimes, signals);
    }

    /// <summary>Records an item's outcome once, in completion order; at <see cref="SwarmOptions.StopAfterFailures"/> the swarm fails (rule 29).</summary>
    private void RecordItem(StoredSignature swarm, string itemId, byte[]? result, string? error, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        var data = swarm.Swarm!;
        data.Outcomes.Add(new ItemOutcome(itemId, result, error));
        if (result is not null) return;
        var failed = data.Outcomes.Count(o => o.Result is null);
        if (swarm.Record.Swarm!.Options.StopAfterFailures is not { } stopAfter || failed < stopAfter) return;

        // Failed at once, closed or not: items not started are canceled, running ones finish.
        foreach (var waiting in data.Waiting.Concat(data.Ready))
        {
            if (Find(waiting.Id) is { } item && !item.Record.Status.IsFinished())
            {
                Transition(item, SignatureStatus.Canceled);
                Finished(item, lifetimes.Done, signals);
            }
        }
        data.Waiting.Clear();
        data.Ready.Clear();
        var failure = new TaskFailure(swarm.Record.Id, swarm.Record.TaskName,
            $"Swarm {swarm.Record.Id}: {failed} items failed (SwarmOptions.StopAfterFailures = {stopAfter}); the last one: {error}");
        Apply(swarm, new SavedOutcome(data.Message ?? "{}"u8.ToArray(), failure), lifetimes, signals);
    }

    /// <summary>Rule 29: closed, every item added has finished, nothing waits: Done with the results.</summary>
    private void CompleteSwarmIfDue(StoredSignature swarm, SignatureLifetimes lifetimes, List<(SignalKind, string)> signals)
    {
        var data = swarm.Swarm!;
        if (!swarm.Record.Status.IsRunnable() || !data.Closed || data.Running > 0 || data.Ready.Count > 0 || data.Waiting.Count > 0) return;
        // A swarm that is a chain step or a swarm item completes once its container started it, never before.
        if (swarm.Record.ParentId is not null && !data.Started) return;
        if (data.Outcomes.Count < data.Items.Count) return;
        if (swarm.Record.Status == SignatureStatus.Pending) Transition(swarm, SignatureStatus.Active);
        Apply(swarm, new SavedOutcome(ResultsJson(data.Outcomes), null, OutcomesJson(data.Outcomes)), lifetimes, signals);
    }

    private static int IndexOf(IReadOnlyList<string> ids, string id)
    {
        for (var i = 0; i < ids.Count; i++) if (ids[i] == id) return i;
        return -1;
    }

    /// <summary>A container's bound kwargs as one JSON object: call-time kwargs of its children.</summary>
    private static byte[] KwargsJson(StoredSignature container) =>
        container.Record.Kwargs.Count == 0 ? [] : InputComposer.Compose("{}"u8.ToArray(), container.Record.Kwargs, default);

    /// <summary>The results of the items that succeeded, in completion order: <c>[r1, r2, …]</c>.</summary>
    internal static byte[] ResultsJson(IEnumerable<ItemOutcome> outcomes)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var outcome in outcomes)
            {
                if (outcome.Result is { } result) WriteRaw(writer, result);
            }
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Every item's outcome, as <see cref="SwarmResults{T}"/> is written: <c>{"items":[{"signatureId",…}]}</c>.</summary>
    internal static byte[] OutcomesJson(IEnumerable<ItemOutcome> outcomes)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("items");
            foreach (var outcome in outcomes)
            {
                writer.WriteStartObject();
                writer.WriteString("signatureId", outcome.Id);
                writer.WriteBoolean("succeeded", outcome.Result is not null);
                // A failed item has no "result" at all: a value-type T reads its default instead of failing on null.
                if (outcome.Result is { } result)
                {
                    writer.WritePropertyName("result");
                    WriteRaw(writer, result);
                }
                if (outcome.Error is { } error) writer.WriteString("error", error);
                else writer.WriteNull("error");
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteRaw(Utf8JsonWriter writer, byte[] json)
    {
        if (json.Length == 0) writer.WriteNullValue();
        else writer.WriteRawValue(json, skipInputValidation: true);
    }

    /// <summary>An item's outcome: its result (null when it failed) or its error.</summary>
    internal sealed record ItemOutcome(string Id, byte[]? Result, string? Error);

    private sealed class SwarmData
    {
        /// <summary>Every item, in the order added.</summary>
        public List<string> Items { get; } = [];

        /// <summary>Added with <c>AddAsync</c> before the swarm started: waiting for <c>RunAsync</c>.</summary>
        public List<SwarmItem> Waiting { get; } = [];

        /// <summary>May run, in order, as slots free up.</summary>
        public Queue<SwarmItem> Ready { get; } = new();

        public List<ItemOutcome> Outcomes { get; } = [];

        public int Running { get; set; }

        public bool Closed { get; set; }

        public bool Started { get; set; }

        public byte[]? Message { get; set; }

        public SwarmState State(SwarmOptions options) => new(options)
        {
            Added = Items.Count,
            Running = Running,
            Succeeded = Outcomes.Count(o => o.Result is not null),
            Failed = Outcomes.Count(o => o.Result is null),
            Closed = Closed,
            Started = Started,
        };
    }
}
