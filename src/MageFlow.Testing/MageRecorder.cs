using System.Text;
using System.Text.Json;
using MageFlow.Backends;
using MageFlow.Backends.InMemory;
using MageFlow.Execution;
using MageFlow.Signatures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MageFlow.Testing;

/// <summary>
/// What the code under test did with MageFlow, when it is configured with
/// <see cref="MageFlowRecordingExtensions.UseRecording"/>: every signature it created and every run it dispatched,
/// each run with the input its task would receive. Resolve it from the container. Assertions throw
/// <see cref="MageAssertionException"/>; <see cref="CompleteAsync"/>, <see cref="FailAsync"/> and
/// <see cref="ExecuteAsync"/> finish a recorded run, and the callbacks, chain steps and swarm items that dispatches
/// are recorded in turn.
/// </summary>
public sealed class MageRecorder
{
    /// <summary>The consumer name the recorder takes queued runs under.</summary>
    private const string Consumer = "mageflow-recorder";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, RecordedSignature> _signatures = new(StringComparer.Ordinal);
    private readonly List<RecordedSignature> _signaturesInOrder = [];
    private readonly List<RecordedDispatch> _dispatches = [];
    private readonly HashSet<string> _queues = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _taking = new(1, 1);
    private readonly MageFlowOptions _options;
    private readonly MageTaskRegistry _registry;
    private readonly RunExecutor _executor;

    internal MageRecorder(MageFlowOptions options, MageTaskRegistry registry, IServiceScopeFactory scopes, ILogger<MageRecorder> logger)
    {
        _options = options;
        _registry = registry;
        // The worker's own executor: ExecuteAsync composes, deserializes, runs and classifies exactly as a worker does.
        _executor = new RunExecutor(registry, options, new MageWorkerOptions(), scopes, logger);
        Backend = new RecordingBackend(this, new InMemoryBackend(TimeProvider.System));
    }

    internal RecordingBackend Backend { get; }

    private SignatureLifetimes Lifetimes => new(_options.ActiveTtl, _options.DoneTtl);

    /// <summary>Every signature created (tasks, chains, swarms), in the order created.</summary>
    public IReadOnlyList<RecordedSignature> Signatures
    {
        get { lock (_gate) return _signaturesInOrder.ToArray(); }
    }

    /// <summary>Every chain created, in the order created.</summary>
    public IReadOnlyList<RecordedSignature> Chains => Signatures.Where(s => s.Kind == RecordedSignatureKind.Chain).ToArray();

    /// <summary>Every swarm created, in the order created.</summary>
    public IReadOnlyList<RecordedSignature> Swarms => Signatures.Where(s => s.Kind == RecordedSignatureKind.Swarm).ToArray();

    /// <summary>Every run dispatched, in the order dispatched.</summary>
    public IReadOnlyList<RecordedDispatch> Dispatches
    {
        get { lock (_gate) return _dispatches.ToArray(); }
    }

    /// <summary>The runs of <paramref name="taskName"/> dispatched, in order.</summary>
    public IReadOnlyList<RecordedDispatch> DispatchesOf(string taskName) => Dispatches.Where(d => d.TaskName == taskName).ToArray();

    /// <summary>The recorded signature with this id; throws <see cref="MageAssertionException"/> when none was created.</summary>
    public RecordedSignature GetSignature(string id)
    {
        lock (_gate)
        {
            if (_signatures.TryGetValue(id, out var signature)) return signature;
        }
        throw new MageAssertionException($"No signature {id} was created.{Environment.NewLine}{DescribeSignatures()}");
    }

    // ---- assertions ----

    /// <summary>
    /// Asserts that <paramref name="taskName"/> was dispatched, with an input containing <paramref name="partialInput"/>
    /// when given (an anonymous object, a message or a <see cref="JsonElement"/>; see the README for the matching rules),
    /// and returns the first such dispatch. Throws <see cref="MageAssertionException"/> listing what was dispatched.
    /// </summary>
    public RecordedDispatch AssertDispatched(string taskName, object? partialInput = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskName);
        var expected = partialInput is null ? (JsonElement?)null : ToJson(partialInput);
        var all = Dispatches;
        var ofTask = all.Where(d => d.TaskName == taskName).ToArray();
        var differences = new List<(RecordedDispatch Dispatch, string Difference)>();
        foreach (var dispatch in ofTask)
        {
            if (expected is not { } wanted) return dispatch;
            if (JsonSubset.FirstDifference(wanted, dispatch.Input) is not { } difference) return dispatch;
            differences.Add((dispatch, difference));
        }

        var message = new StringBuilder();
        message.Append($"Expected {taskName} to be dispatched");
        if (expected is { } shown) message.Append($" with an input containing {shown.GetRawText()}");
        message.AppendLine(".");
        if (ofTask.Length == 0) message.AppendLine($"{taskName} was never dispatched.");
        else
        {
            message.AppendLine(ofTask.Length == 1 ? "Its 1 dispatch did not match:" : $"None of its {ofTask.Length} dispatches matched:");
            foreach (var (dispatch, difference) in differences)
                message.AppendLine($"  #{dispatch.Sequence} {dispatch}").AppendLine($"     {difference}");
        }
        message.Append(DescribeDispatches(all));
        throw new MageAssertionException(message.ToString());
    }

    /// <summary>Asserts that <paramref name="taskName"/> was never dispatched; throws <see cref="MageAssertionException"/> listing its dispatches.</summary>
    public void AssertNotDispatched(string taskName)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskName);
        var ofTask = DispatchesOf(taskName);
        if (ofTask.Count == 0) return;
        throw new MageAssertionException(
            $"Expected {taskName} not to be dispatched, but it was {Times(ofTask.Count)}:{Environment.NewLine}{List(ofTask)}");
    }

    /// <summary>Asserts that no run at all was dispatched; throws <see cref="MageAssertionException"/> listing them.</summary>
    public void AssertNothingDispatched()
    {
        var all = Dispatches;
        if (all.Count == 0) return;
        throw new MageAssertionException(
            $"Expected nothing to be dispatched, but {(all.Count == 1 ? "1 run was" : $"{all.Count} runs were")}:{Environment.NewLine}{List(all)}");
    }

    // ---- finishing recorded runs ----

    /// <summary>
    /// Finishes a recorded run as if its task returned <paramref name="result"/> (null for a task that returns nothing,
    /// or a <see cref="JsonElement"/>): the signature becomes Done and its success callbacks, its chain's next step or its
    /// swarm's next items are dispatched and recorded, with the result injected into each one's return member as a
    /// worker would. Returns the dispatches this caused. The task body does not run.
    /// </summary>
    /// <exception cref="ArgumentException">The result is not of the task's return type.</exception>
    /// <exception cref="InvalidOperationException">The run was finished already, or its signature is suspended, interrupted, canceled or finished, so a worker would not run it.</exception>
    public Task<IReadOnlyList<RecordedDispatch>> CompleteAsync(RecordedDispatch run, object? result = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        var resultJson = ResultJson(run, result);
        return FinishAsync(run, async _ =>
        {
            await Backend.Store.CompleteAsync(run.Delivery, resultJson, Lifetimes, cancellationToken).ConfigureAwait(false);
            return RecordedOutcome.Completed;
        }, cancellationToken);
    }

    /// <summary>
    /// Finishes a recorded run as if its task failed for good (retries exhausted) with <paramref name="exception"/>: the
    /// signature becomes Failed and its error callbacks are dispatched and recorded, each with the failed run's input
    /// plus its own kwargs and the failure (<see cref="RecordedDispatch.Failure"/>). Returns the dispatches this caused.
    /// </summary>
    /// <exception cref="InvalidOperationException">The run was finished already, or its signature is suspended, interrupted, canceled or finished, so a worker would not run it.</exception>
    public Task<IReadOnlyList<RecordedDispatch>> FailAsync(RecordedDispatch run, Exception exception, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(exception);
        return FinishAsync(run, async started =>
        {
            var failed = RunExecutor.Fail(started, RunExecutor.FallbackInput(started, run.Delivery.Envelope), TaskFailureKind.Error, RunExecutor.ErrorOf(exception), exception);
            await Backend.Store.FailAsync(run.Delivery, failed.FailedInput, failed.Failure, Lifetimes, cancellationToken).ConfigureAwait(false);
            return RecordedOutcome.Failed;
        }, cancellationToken);
    }

    /// <summary>
    /// Runs a recorded run's task body in this process, as a worker would: its input deserialized into the message,
    /// an instance task resolved from a new scope of the container, its retries made at once (no delay), then its
    /// outcome applied, so what it dispatches is recorded. Returns the dispatches this caused. Only tasks registered in
    /// this process can run (the test project's own, or a library's after <c>AddMageFlowTasksFrom&lt;T&gt;()</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The task is not registered here, the run was finished already, or its signature is suspended, interrupted, canceled or finished.</exception>
    public Task<IReadOnlyList<RecordedDispatch>> ExecuteAsync(RecordedDispatch run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!_registry.TryGet(run.TaskName, out _))
            throw new InvalidOperationException(
                $"Cannot execute {run.Signature}: no task named '{run.TaskName}' is registered in this process. Tasks of a library are registered with services.AddMageFlowTasksFrom<T>().");
        return FinishAsync(run, async started =>
        {
            // Retries here start the same entry again at once: never a stall.
            var signature = started with { Stalls = 0 };
            while (true)
            {
                var outcome = await _executor.RunAsync(run.Delivery, signature, cancellationToken, cancellationToken).ConfigureAwait(false);
                switch (outcome)
                {
                    case RunOutcome.Succeeded succeeded:
                        await Backend.Store.CompleteAsync(run.Delivery, succeeded.Result, Lifetimes, cancellationToken).ConfigureAwait(false);
                        return RecordedOutcome.Completed;
                    case RunOutcome.Failed failed:
                        await Backend.Store.FailAsync(run.Delivery, failed.FailedInput, failed.Failure, Lifetimes, cancellationToken).ConfigureAwait(false);
                        return RecordedOutcome.Failed;
                    case RunOutcome.Retry:
                        // A test does not wait out retry delays: the next attempt starts at once, counted as a worker counts it.
                        var again = await Backend.Store.StartAsync(run.Delivery, _options.ActiveTtl, cancellationToken).ConfigureAwait(false);
                        if (again.Result != StartResult.Started) return RecordedOutcome.NotRun;
                        signature = again.Run! with { Stalls = 0 };
                        break;
                    default:
                        // Stopped or abandoned: only the test's token stops a body here.
                        throw new OperationCanceledException(cancellationToken);
                }
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Executes (<see cref="ExecuteAsync"/>) every waiting run in the order dispatched, and the runs those dispatch, until
    /// none waits: the whole workflow, in this process, one run at a time. A run whose signature is suspended,
    /// interrupted or canceled is left as a worker leaves it (<see cref="RecordedOutcome.NotRun"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">A waiting task is not registered here, or more than <paramref name="maxRuns"/> runs were executed (a workflow without end).</exception>
    public async Task ExecuteAllAsync(int maxRuns = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRuns);
        for (var executed = 0; Dispatches.FirstOrDefault(d => d.Outcome == RecordedOutcome.Waiting) is { } next; executed++)
        {
            if (executed == maxRuns)
                throw new InvalidOperationException($"ExecuteAllAsync executed {maxRuns} runs and runs still wait (the next: #{next.Sequence} {next}): does a task dispatch runs without end?");
            try
            {
                await ExecuteAsync(next, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException) when (next.Outcome == RecordedOutcome.NotRun)
            {
                // Parked or canceled: a worker would not run it either.
            }
        }
    }

    private async Task<IReadOnlyList<RecordedDispatch>> FinishAsync(RecordedDispatch run, Func<StartedRun, Task<RecordedOutcome>> finish, CancellationToken cancellationToken)
    {
        if (run.Outcome != RecordedOutcome.Waiting)
            throw new InvalidOperationException($"Run #{run.Sequence} {run} was finished already ({run.Outcome}); a run is finished once.");
        var seen = Dispatches.Count;
        var start = await Backend.Store.StartAsync(run.Delivery, _options.ActiveTtl, cancellationToken).ConfigureAwait(false);
        if (start.Result != StartResult.Started)
        {
            run.Outcome = RecordedOutcome.NotRun;
            var why = start.Result switch
            {
                StartResult.Parked => $"its signature is {start.FoundStatus}: the run was parked for ResumeAsync, as a worker parks it",
                StartResult.Missing => "its signature no longer exists",
                _ => $"its signature is {start.FoundStatus}, and a worker would not run it either",
            };
            throw new InvalidOperationException($"Run #{run.Sequence} {run} cannot run: {why}.");
        }
        run.Outcome = await finish(start.Run!).ConfigureAwait(false);
        await TakeQueuedRunsAsync(cancellationToken).ConfigureAwait(false);
        return Dispatches.Skip(seen).ToArray();
    }

    private byte[] ResultJson(RecordedDispatch run, object? result)
    {
        if (result is JsonElement json) return JsonSerializer.SerializeToUtf8Bytes(json);
        var resultType = _registry.TryGet(run.TaskName, out var task) ? task.ResultType : result?.GetType();
        if (task is not null && result is not null && (resultType is null || !resultType.IsInstanceOfType(result)))
        {
            throw new ArgumentException(
                resultType is null
                    ? $"Task '{run.TaskName}' returns nothing (its callbacks receive null), but a {result.GetType().FullName} was given as its result."
                    : $"Task '{run.TaskName}' returns {resultType.FullName}, but a {result.GetType().FullName} was given as its result.",
                nameof(result));
        }
        return JsonSerializer.SerializeToUtf8Bytes(result, resultType ?? typeof(object), _options.JsonOptions);
    }

    // ---- what the recording backend reports ----

    internal void SignatureCreated(SignatureRecord record)
    {
        lock (_gate)
        {
            var signature = new RecordedSignature(this, record);
            _signatures[record.Id] = signature;
            _signaturesInOrder.Add(signature);
            // A task's runs are queued under its name; a chain's or swarm's never are (their steps and items are).
            if (record.Kind == SignatureKind.Task) _queues.Add(record.TaskName);
            foreach (var stepId in record.ChildIds)
            {
                if (_signatures.TryGetValue(stepId, out var step)) step.JoinedContainer(record.Id);
            }
        }
    }

    internal void KwargsUpdated(SignatureRecord stored)
    {
        lock (_gate)
        {
            if (_signatures.TryGetValue(stored.Id, out var signature)) signature.KwargsUpdated(stored);
        }
    }

    internal void ItemsAdded(string swarmId, IEnumerable<string> itemIds)
    {
        lock (_gate)
        {
            var ids = itemIds.ToArray();
            if (_signatures.TryGetValue(swarmId, out var swarm)) swarm.ItemsAdded(ids);
            foreach (var id in ids)
            {
                if (_signatures.TryGetValue(id, out var item)) item.JoinedContainer(swarmId);
            }
        }
    }

    /// <summary>Takes every run queued so far, as a worker would read it, and records it with its composed input.</summary>
    internal async Task TakeQueuedRunsAsync(CancellationToken cancellationToken)
    {
        await _taking.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string[] queues;
            lock (_gate) queues = _queues.ToArray();
            var entries = await Backend.Store.ReadAsync(queues, Consumer, int.MaxValue, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            foreach (var delivery in entries.OfType<Delivery>())
            {
                var stored = await Backend.Store.GetSignatureAsync(delivery.Envelope.SignatureId, cancellationToken).ConfigureAwait(false);
                Record(delivery, stored);
            }
        }
        finally
        {
            _taking.Release();
        }
    }

    private void Record(Delivery delivery, SignatureRecord? stored)
    {
        lock (_gate)
        {
            var signature = _signatures[delivery.Envelope.SignatureId];
            var input = InputOf(delivery.Envelope, stored ?? signature.Record);
            RecordedSignature? callbackOf = null;
            var reason = delivery.Envelope.Kind switch
            {
                EnvelopeKind.ErrorInput when (callbackOf = ListingAsCallback(signature.Id, s => s.ErrorCallbackIds)) is not null => DispatchReason.ErrorCallback,
                EnvelopeKind.Result when (callbackOf = ListingAsCallback(signature.Id, s => s.SuccessCallbackIds)) is not null => DispatchReason.SuccessCallback,
                _ => signature.Parent?.Kind switch
                {
                    RecordedSignatureKind.Chain => DispatchReason.ChainStep,
                    RecordedSignatureKind.Swarm => DispatchReason.SwarmItem,
                    _ => DispatchReason.Run,
                },
            };
            _dispatches.Add(new RecordedDispatch(_dispatches.Count + 1, signature, reason, callbackOf, input, delivery, _options.JsonOptions));
        }
    }

    private RecordedSignature? ListingAsCallback(string id, Func<SignatureRecord, IReadOnlyList<string>> callbacks) =>
        _signaturesInOrder.FirstOrDefault(s => callbacks(s.Record).Contains(id));

    /// <summary>The input a worker would compose; when it cannot be composed (the worker would fail the run), a JSON string saying why.</summary>
    private static JsonElement InputOf(Envelope envelope, SignatureRecord signature)
    {
        try
        {
            using var input = RunExecutor.ComposeInput(envelope, StartedRun.Of(signature, stalls: 0));
            using var document = JsonDocument.Parse(input.Json);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return JsonSerializer.SerializeToElement($"(the input cannot be composed: {ex.Message})");
        }
    }

    internal JsonElement KwargsOf(SignatureRecord record) => MageFlowClient.InfoOf(record).Kwargs;

    internal IReadOnlyList<RecordedSignature> Resolve(IEnumerable<string> ids)
    {
        lock (_gate) return ids.Select(id => _signatures.GetValueOrDefault(id)).OfType<RecordedSignature>().ToArray();
    }

    private JsonElement ToJson(object partialInput) =>
        partialInput is JsonElement element ? element : JsonSerializer.SerializeToElement(partialInput, partialInput.GetType(), _options.JsonOptions);

    private static string Times(int count) => count == 1 ? "once" : $"{count} times";

    private static string List(IEnumerable<RecordedDispatch> dispatches) =>
        string.Join(Environment.NewLine, dispatches.Select(d => $"  #{d.Sequence} {d}"));

    private static string DescribeDispatches(IReadOnlyList<RecordedDispatch> all) =>
        all.Count == 0 ? "Nothing was dispatched at all." : $"Everything dispatched ({all.Count}):{Environment.NewLine}{List(all)}";

    private string DescribeSignatures()
    {
        var all = Signatures;
        return all.Count == 0 ? "No signature was created at all." : $"Signatures created: {string.Join(", ", all)}.";
    }
}
