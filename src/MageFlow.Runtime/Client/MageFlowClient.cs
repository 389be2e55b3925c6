using System.Text.Json;
using MageFlow.Backends;
using MageFlow.Signatures;
using Microsoft.Extensions.Logging;

namespace MageFlow;

/// <summary>The <see cref="IMageFlow"/> implementation over one backend.</summary>
internal sealed class MageFlowClient : IMageFlow, IAsyncDisposable, IDisposable
{
    private readonly ILogger _logger;

    public MageFlowClient(IMageBackend backend, MageTaskRegistry tasks, MageFlowOptions options, ILogger<MageFlowClient> logger)
    {
        Backend = backend;
        Tasks = tasks;
        Options = options;
        JsonOptions = options.JsonOptions;
        _logger = logger;
        Waiters = new SignatureWaiters(backend, logger, options.WaitCheckInterval);
    }

    internal IMageBackend Backend { get; }

    internal SignatureWaiters Waiters { get; }

    private SignatureLifetimes Lifetimes => new(Options.ActiveTtl, Options.DoneTtl);

    internal MageFlowOptions Options { get; }

    public MageTaskRegistry Tasks { get; }

    public JsonSerializerOptions JsonOptions { get; }

    public Task<TaskSignature> AsignAsync(
        string taskName,
        object? kwargs = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        CancellationToken cancellationToken = default) =>
        AsignAsync(new SignatureRequest(taskName)
        {
            Kwargs = KwargsOf(taskName, kwargs, "kwargs"),
            SuccessCallbacks = successCallbacks,
            ErrorCallbacks = errorCallbacks,
        }, cancellationToken);

    public async Task<TaskSignature<TMessage>> AsignAsync<TMessage>(
        string taskName,
        object? kwargs = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        CancellationToken cancellationToken = default)
    {
        var record = await CreateAsync(new SignatureRequest(taskName)
        {
            Kwargs = KwargsOf(taskName, kwargs, "kwargs"),
            SuccessCallbacks = successCallbacks,
            ErrorCallbacks = errorCallbacks,
            MessageType = typeof(TMessage),
            ReturnField = Tasks.ReturnFieldOf(typeof(TMessage)),
        }, cancellationToken).ConfigureAwait(false);
        return new TaskSignature<TMessage>(this, record);
    }

    public async Task<TaskSignature> AsignAsync(SignatureRequest request, CancellationToken cancellationToken = default) =>
        new(this, await CreateAsync(request, cancellationToken).ConfigureAwait(false));

    public async Task<TaskSignature?> GetSignatureAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var record = await Backend.GetSignatureAsync(id, cancellationToken).ConfigureAwait(false);
        return record is null ? null : Handle(record);
    }

    public async Task<SignatureInfo?> GetSignatureInfoAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var record = await Backend.GetSignatureAsync(id, cancellationToken).ConfigureAwait(false);
        return record is null ? null : InfoOf(record);
    }

    public async IAsyncEnumerable<SignatureInfo> ListSignaturesAsync(SignatureQuery? query = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        query ??= new SignatureQuery();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Limit, "query.Limit");
        await foreach (var record in Backend.ListSignaturesAsync(query, cancellationToken).ConfigureAwait(false))
            yield return InfoOf(record);
    }

    internal static SignatureInfo InfoOf(SignatureRecord record) => new(record, KwargsObject(record.Kwargs));

    /// <summary>
    /// The kwargs as one JSON object. The read side must show even a signature whose stored kwargs are not JSON
    /// (written by something else): such a value is shown as a string of its raw text instead of failing the read.
    /// </summary>
    private static JsonElement KwargsObject(IReadOnlyList<KeyValuePair<string, byte[]>> kwargs)
    {
        byte[] json;
        try
        {
            json = Composition.InputComposer.Compose("{}"u8.ToArray(), kwargs, default);
        }
        catch (JsonException)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                foreach (var (name, value) in kwargs)
                {
                    writer.WritePropertyName(name);
                    try
                    {
                        using var parsed = JsonDocument.Parse(value);
                        parsed.RootElement.WriteTo(writer);
                    }
                    catch (JsonException)
                    {
                        writer.WriteStringValue($"(not JSON) {System.Text.Encoding.UTF8.GetString(value)}");
                    }
                }
                writer.WriteEndObject();
            }
            json = buffer.WrittenSpan.ToArray();
        }
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Runs a Failed task again with the input of the run that failed; anything else is refused, saying why.</summary>
    internal async Task RetryAsync(TaskSignature signature, CancellationToken cancellationToken)
    {
        var change = await Backend.ChangeLifecycleAsync(signature.Id, LifecycleAction.Retry, Lifetimes, cancellationToken).ConfigureAwait(false);
        if (!change.Found) throw new SignatureNotFoundException(signature.Id);
        if (change.After != SignatureStatus.Pending || change.Before != SignatureStatus.Failed)
        {
            var stored = await Backend.GetSignatureAsync(signature.Id, cancellationToken).ConfigureAwait(false);
            var why = stored switch
            {
                null => "it no longer exists",
                { Status: not SignatureStatus.Failed } => $"it is {stored.Status}, and only a Failed signature can be retried",
                { Kind: not SignatureKind.Task } => $"it is a {stored.Kind.ToString().ToLowerInvariant()}; retry is for tasks (sign the {stored.Kind.ToString().ToLowerInvariant()} again)",
                { ParentId: { } parent } => $"it is a step or item of {parent}, which finished with this failure; retry is for tasks on their own",
                _ => "the input of its failed run was not kept (it failed without running, e.g. its stored signature was corrupt)",
            };
            throw new InvalidOperationException($"Cannot retry signature {signature.Id} ({signature.TaskName}): {why}.");
        }
        Log.LifecycleChanged(_logger, nameof(LifecycleAction.Retry), signature.Id, signature.TaskName, change.Before, change.After);
    }

    /// <summary>Applies a lifecycle operation (contract §5); a finished signature refuses it.</summary>
    internal async Task ChangeLifecycleAsync(TaskSignature signature, LifecycleAction action, CancellationToken cancellationToken)
    {
        var change = await Backend.ChangeLifecycleAsync(signature.Id, action, Lifetimes, cancellationToken).ConfigureAwait(false);
        if (!change.Found) throw new SignatureNotFoundException(signature.Id);
        if (change.Before.IsFinished())
            throw new InvalidOperationException(
                $"Cannot {action.ToString().ToLowerInvariant()} signature {signature.Id} ({signature.TaskName}): it is {change.Before}, and a finished signature (Done, Failed or Canceled) never runs again.");
        Log.LifecycleChanged(_logger, action.ToString(), signature.Id, signature.TaskName, change.Before, change.After);
    }

    /// <summary>Dispatches a run, waits for the signature to finish (contract §5) and returns it as stored then.</summary>
    internal async Task<SignatureRecord> RunAndWaitAsync(TaskSignature signature, byte[] message, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (timeout is { } limit) ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero, nameof(timeout));
        ThrowIfTooLarge(signature.TaskName, "message", message.Length);
        try
        {
            var finished = await Waiters.WaitAsync(signature.Id, async () =>
            {
                using var send = MageFlowTelemetry.StartSend(signature.TaskName, signature.Id);
                var envelope = new Envelope(signature.Id, EnvelopeKind.Message, message, TraceParent: MageFlowTelemetry.CurrentTraceParent());
                var found = await Backend.DispatchSignatureAsync(envelope, awaited: true, Lifetimes, cancellationToken).ConfigureAwait(false);
                if (found is null) throw new SignatureNotFoundException(signature.Id);
                if (found.Value.IsFinished())
                    throw new InvalidOperationException(
                        $"Cannot run signature {signature.Id} ({signature.TaskName}): it is {found.Value}, and a finished signature (Done, Failed or Canceled) never runs again. Sign the task again to run it again.");
                Log.RunDispatched(_logger, signature.Id, signature.TaskName);
            }, timeout, cancellationToken).ConfigureAwait(false);
            return finished;
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Signature {signature.Id} ({signature.TaskName}) did not finish within {timeout}; the run goes on.", ex);
        }
    }

    public ValueTask DisposeAsync() => Waiters.DisposeAsync();

    public void Dispose() => Waiters.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task<SignatureRecord> CreateAsync(SignatureRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        TaskNames.ThrowIfInvalid(request.TaskName, nameof(request));
        var kwargs = request.Kwargs?.Entries.ToArray() ?? [];
        ThrowIfTooLarge(request.TaskName, "kwargs", KwargsSize(kwargs));

        var messageTypeId = request.MessageType?.FullName;
        var returnField = request.ReturnField;
        var messageType = request.MessageType;
        if (messageTypeId is null || returnField is null)
        {
            // The local registry first (no round trip); then the definitions workers published.
            if (Tasks.TryGet(request.TaskName, out var local))
            {
                messageTypeId ??= local.MessageTypeId;
                returnField ??= local.Options.ReturnField;
                messageType ??= local.MessageType;
            }
            else
            {
                var definition = await Backend.GetTaskDefinitionAsync(request.TaskName, cancellationToken).ConfigureAwait(false)
                                 ?? throw new UnknownTaskException(request.TaskName);
                messageTypeId ??= definition.MessageTypeId;
                returnField ??= definition.ReturnField;
            }
        }

        var callbackTasks = new Dictionary<string, string>(StringComparer.Ordinal);
        var successIds = CallbackIds(request.TaskName, request.SuccessCallbacks, nameof(request.SuccessCallbacks), callbackTasks);
        var errorIds = CallbackIds(request.TaskName, request.ErrorCallbacks, nameof(request.ErrorCallbacks), callbackTasks);
        var record = new SignatureRecord(
            Backend.NewSignatureId([.. successIds, .. errorIds]),
            request.TaskName,
            messageTypeId,
            kwargs,
            successIds,
            errorIds,
            SignatureStatus.Pending,
            SignatureStatus.Pending,
            returnField,
            DateTimeOffset.UtcNow,
            Attempts: 0)
        {
            ReceivesSwarmResults = messageType is not null && ReceivesSwarmResults(messageType, returnField),
            CallbackTasks = callbackTasks.Count > 0 ? callbackTasks : null,
        };
        await Backend.CreateSignatureAsync(record, Options.ActiveTtl, cancellationToken).ConfigureAwait(false);
        Log.SignatureCreated(_logger, record.Id, record.TaskName, record.SuccessCallbackIds.Count, record.ErrorCallbackIds.Count);
        return record;
    }

    /// <summary>Whether the member receiving a result is a <see cref="SwarmResults{T}"/> (contract §7): known from the message type, at signing.</summary>
    private bool ReceivesSwarmResults(Type messageType, string returnField)
    {
        try
        {
            var member = JsonOptions.GetTypeInfo(messageType).Properties
                .FirstOrDefault(p => string.Equals(p.Name, returnField, StringComparison.OrdinalIgnoreCase));
            return member?.PropertyType is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(SwarmResults<>);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return false; // a type the serializer cannot describe fails later, where its input is read
        }
    }

    // ---- chains and swarms (contract §6, §7) ----

    public async Task<ChainSignature> ChainAsync(
        IEnumerable<TaskSignature> steps,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        object? kwargs = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var stepList = steps.ToList();
        if (stepList.Count == 0) throw new ArgumentException("A chain needs at least one step.", nameof(steps));
        var stepIds = CallbackIds(ContainerNames.Chain, stepList, nameof(steps), callbackTasks: null);
        if (stepIds.Length != stepList.Count) throw new InvalidOperationException($"A chain cannot run the same step twice: {string.Join(", ", stepList.GroupBy(s => s.Id).Where(g => g.Count() > 1).Select(g => g.First()))}.");
        var first = stepList[0].Record;
        var record = NewContainer(SignatureKind.Chain, ContainerNames.Chain, first.MessageTypeId, first.ReturnField, kwargs, successCallbacks, errorCallbacks, stepIds) with
        {
            ChildIds = stepIds,
            ReceivesSwarmResults = first.ReceivesSwarmResults,
        };
        var problem = await Backend.CreateContainerAsync(record, Options.ActiveTtl, cancellationToken).ConfigureAwait(false);
        if (problem is not null) throw new InvalidOperationException($"Cannot make a chain of {string.Join(", ", stepList)}: {problem}.");
        Log.SignatureCreated(_logger, record.Id, record.TaskName, record.SuccessCallbackIds.Count, record.ErrorCallbackIds.Count);
        return new ChainSignature(this, record);
    }

    public async Task<SwarmSignature> SwarmAsync(
        SwarmOptions? options = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        object? kwargs = null,
        CancellationToken cancellationToken = default) =>
        new(this, await CreateSwarmAsync(options, successCallbacks, errorCallbacks, kwargs, cancellationToken).ConfigureAwait(false));

    public async Task<SwarmSignature<TResult>> SwarmAsync<TResult>(
        SwarmOptions? options = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        object? kwargs = null,
        CancellationToken cancellationToken = default) =>
        new(this, await CreateSwarmAsync(options, successCallbacks, errorCallbacks, kwargs, cancellationToken).ConfigureAwait(false));

    private async Task<SignatureRecord> CreateSwarmAsync(
        SwarmOptions? options, IEnumerable<TaskSignature>? successCallbacks, IEnumerable<TaskSignature>? errorCallbacks, object? kwargs, CancellationToken cancellationToken)
    {
        options ??= new SwarmOptions();
        options.Validate();
        var record = NewContainer(SignatureKind.Swarm, ContainerNames.Swarm, "", MageJson.FallbackReturnField, kwargs, successCallbacks, errorCallbacks, []) with
        {
            Swarm = new SwarmState(options),
        };
        var problem = await Backend.CreateContainerAsync(record, Options.ActiveTtl, cancellationToken).ConfigureAwait(false);
        if (problem is not null) throw new InvalidOperationException($"Cannot make a swarm: {problem}.");
        Log.SignatureCreated(_logger, record.Id, record.TaskName, record.SuccessCallbackIds.Count, record.ErrorCallbackIds.Count);
        return record;
    }

    private SignatureRecord NewContainer(
        SignatureKind kind, string name, string messageTypeId, string returnField, object? kwargs,
        IEnumerable<TaskSignature>? successCallbacks, IEnumerable<TaskSignature>? errorCallbacks, string[] stepIds)
    {
        var entries = KwargsOf(name, kwargs, "kwargs").Entries.ToArray();
        ThrowIfTooLarge(name, "kwargs", KwargsSize(entries));
        var callbackTasks = new Dictionary<string, string>(StringComparer.Ordinal);
        var successIds = CallbackIds(name, successCallbacks, "successCallbacks", callbackTasks);
        var errorIds = CallbackIds(name, errorCallbacks, "errorCallbacks", callbackTasks);
        // Steps first: a chain touches each step twice (its dispatch, its outcome), a callback once, and ties go to the first.
        return new SignatureRecord(Backend.NewSignatureId([.. stepIds, .. successIds, .. errorIds]), name, messageTypeId, entries,
            successIds, errorIds,
            SignatureStatus.Pending, SignatureStatus.Pending, returnField, DateTimeOffset.UtcNow, Attempts: 0)
        {
            Kind = kind,
            CallbackTasks = callbackTasks.Count > 0 ? callbackTasks : null,
        };
    }

    internal async Task AddToSwarmAsync(SwarmSignature swarm, IEnumerable<TaskSignature> items, byte[]? message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var itemList = items.ToList();
        if (itemList.Count == 0) return;
        var ids = CallbackIds(ContainerNames.Swarm, itemList, nameof(items), callbackTasks: null);
        if (ids.Length != itemList.Count) throw new InvalidOperationException($"Swarm {swarm.Id}: the same item is given twice.");
        if (message is not null) ThrowIfTooLarge(itemList[0].TaskName, "message", message.Length);
        var change = await Backend.AddToSwarmAsync(swarm.Id, ids.Select(id => new SwarmItem(id, message)).ToArray(), Lifetimes, cancellationToken).ConfigureAwait(false);
        switch (change.Result)
        {
            case SwarmChangeResult.SwarmMissing:
                throw new SignatureNotFoundException(swarm.Id);
            case SwarmChangeResult.Full:
                throw new SwarmFullException(swarm.Id, swarm.Options.MaxTasks ?? 0, change.Added, ids.Length);
            case SwarmChangeResult.Closed:
                throw new SwarmClosedException(swarm.Id, change.Detail ?? "it was closed");
            case SwarmChangeResult.ItemMissing:
                throw new SignatureNotFoundException(change.Detail!);
            case SwarmChangeResult.ItemTaken:
                throw new InvalidOperationException($"Swarm {swarm.Id}: item {itemList.First(i => i.Id == change.Detail)} is already a step or item of a chain or swarm (or is the swarm itself); nothing was added.");
        }
    }

    internal async Task CloseSwarmAsync(SwarmSignature swarm, CancellationToken cancellationToken)
    {
        var change = await Backend.CloseSwarmAsync(swarm.Id, Lifetimes, cancellationToken).ConfigureAwait(false);
        if (change.Result == SwarmChangeResult.SwarmMissing) throw new SignatureNotFoundException(swarm.Id);
    }

    /// <summary>The typed handle of a stored signature: a chain, a swarm, or a task.</summary>
    internal TaskSignature Handle(SignatureRecord record) => record.Kind switch
    {
        SignatureKind.Chain => new ChainSignature(this, record),
        SignatureKind.Swarm => new SwarmSignature(this, record),
        _ => new TaskSignature(this, record),
    };

    /// <summary>Reads kwargs from an object; what cannot be read is refused naming the task.</summary>
    internal KwargsBuilder KwargsOf(string taskName, object? kwargs, string what)
    {
        try
        {
            return KwargsBuilder.FromObject(kwargs, JsonOptions);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new ArgumentException($"Task '{taskName}': the {what} cannot be bound: {ex.Message}", what == "kwargs" ? "kwargs" : "callTimeKwargs", ex);
        }
    }

    /// <summary>Serializes a message; what cannot be written as JSON is refused naming the task and the type.</summary>
    internal byte[] MessageJson<TMessage>(string taskName, TMessage message)
    {
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(message, JsonOptions.TypeInfo<TMessage>());
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new ArgumentException($"Task '{taskName}': the message of type {typeof(TMessage).FullName} cannot be written as JSON: {ex.Message}", nameof(message), ex);
        }
    }

    /// <summary>Refuses a payload over <see cref="MageFlowOptions.MaxPayloadBytes"/> before anything is stored (contract §8).</summary>
    internal void ThrowIfTooLarge(string taskName, string payload, long sizeBytes)
    {
        if (sizeBytes > Options.MaxPayloadBytes) throw new MagePayloadTooLargeException(taskName, payload, sizeBytes, Options.MaxPayloadBytes);
    }

    /// <summary>The size of kwargs as the JSON object they make.</summary>
    internal static long KwargsSize(IReadOnlyList<KeyValuePair<string, byte[]>> kwargs) =>
        2 + kwargs.Sum(k => (long)System.Text.Encoding.UTF8.GetByteCount(k.Key) + k.Value.Length + 4);

    /// <summary>
    /// The ids of <paramref name="callbacks"/>, each once; <paramref name="callbackTasks"/>, when given, collects the task
    /// of each plain-task callback (<see cref="SignatureRecord.CallbackTasks"/>).
    /// </summary>
    private string[] CallbackIds(string taskName, IEnumerable<TaskSignature>? callbacks, string parameter, Dictionary<string, string>? callbackTasks)
    {
        if (callbacks is null) return [];
        var ids = new List<string>();
        foreach (var callback in callbacks)
        {
            if (callback is null) throw new ArgumentException($"Task '{taskName}': a callback signature in {parameter} is null.", parameter);
            // Clients of different processes on the same store share callbacks; a callback in another store could never fire.
            if (!ReferenceEquals(callback.Client, this) && callback.Client.Backend.StoreId != Backend.StoreId)
                throw new ArgumentException(
                    $"Task '{taskName}': callback {callback} is stored in {callback.Client.Backend.StoreId}, not in this client's {Backend.StoreId}; it could never fire.", parameter);
            ids.Add(callback.Id);
            if (callbackTasks is not null && callback.Record is { Kind: SignatureKind.Task, ReceivesSwarmResults: false } record)
                callbackTasks[record.Id] = record.TaskName;
        }
        // The same callback passed twice fires once (rule 22).
        return ids.Distinct(StringComparer.Ordinal).ToArray();
    }

    internal Task DispatchAsync(TaskSignature signature, byte[] message, object? callTimeKwargs, CancellationToken cancellationToken)
    {
        ThrowIfTooLarge(signature.TaskName, "message", message.Length);
        byte[] callTime = [];
        if (callTimeKwargs is not null)
        {
            var builder = KwargsOf(signature.TaskName, callTimeKwargs, "call-time kwargs");
            callTime = Composition.InputComposer.Compose("{}"u8.ToArray(), builder.Entries, default);
            ThrowIfTooLarge(signature.TaskName, "call-time kwargs", callTime.Length);
        }
        var send = MageFlowTelemetry.StartSend(signature.TaskName, signature.Id);
        var envelope = new Envelope(signature.Id, EnvelopeKind.Message, message, callTime, TraceParent: MageFlowTelemetry.CurrentTraceParent());
        // A task's run with no span to end and no log to write after it: the backend's task is the dispatch's, without a
        // state machine per dispatch.
        if (send is null && signature.Record.Kind == SignatureKind.Task && !_logger.IsEnabled(LogLevel.Debug))
            return Backend.DispatchAsync(signature.TaskName, envelope, cancellationToken);
        return DispatchEnvelopeAsync(signature, envelope, send, cancellationToken);
    }

    private async Task DispatchEnvelopeAsync(TaskSignature signature, Envelope envelope, System.Diagnostics.Activity? send, CancellationToken cancellationToken)
    {
        using var sending = send;
        if (signature.Record.Kind == SignatureKind.Task)
        {
            await Backend.DispatchAsync(signature.TaskName, envelope, cancellationToken).ConfigureAwait(false);
        }
        else if (await Backend.DispatchSignatureAsync(envelope, awaited: false, Lifetimes, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new SignatureNotFoundException(signature.Id);
        }
        Log.RunDispatched(_logger, signature.Id, signature.TaskName);
    }
}
