using System.ComponentModel;
using System.Text.Json;
using MageFlow.Backends;
using MageFlow.Signatures;

namespace MageFlow;

/// <summary>
/// A signed task: a stored task name with bound kwargs and success/error callbacks, ready to run.
/// The generated builders return a typed subclass (<c>ProcessOrder.Signature</c>).
/// </summary>
public class TaskSignature
{
    private readonly MageFlowClient _client;

    internal TaskSignature(MageFlowClient client, SignatureRecord record)
    {
        _client = client;
        Record = record;
        Kwargs = new SignatureKwargs(this);
    }

    /// <summary>Wraps another signature object (used by generated typed signatures).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected TaskSignature(TaskSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        _client = signature._client;
        Record = signature.Record;
        Kwargs = new SignatureKwargs(this);
    }

    internal SignatureRecord Record { get; }

    internal MageFlowClient Client => _client;

    /// <summary>The signature's id.</summary>
    public string Id => Record.Id;

    /// <summary>The task it runs.</summary>
    public string TaskName => Record.TaskName;

    /// <summary>Wire name of the member that receives a result when this signature runs as a success callback.</summary>
    public string ReturnField => Record.ReturnField;

    /// <summary>The signatures dispatched with its result when it succeeds.</summary>
    public IReadOnlyList<string> SuccessCallbackIds => Record.SuccessCallbackIds;

    /// <summary>The signatures dispatched when it finally fails.</summary>
    public IReadOnlyList<string> ErrorCallbackIds => Record.ErrorCallbackIds;

    /// <summary>The kwargs bound to this signature; update them with <c>Kwargs.UpdateAsync(...)</c>.</summary>
    public SignatureKwargs Kwargs { get; }

    /// <summary>The client this signature belongs to.</summary>
    public IMageFlow Mage => _client;

    /// <summary>
    /// Dispatches a run with <paramref name="message"/> as the base of the input; bound kwargs and
    /// <paramref name="kwargs"/> (call-time, highest precedence) are merged over it. Does not wait for the run.
    /// </summary>
    public Task RunAsync<TMessage>(TMessage message, object? kwargs = null, CancellationToken cancellationToken = default) =>
        _client.DispatchAsync(this, _client.MessageJson(TaskName, message), kwargs, cancellationToken);

    /// <summary>Dispatches a run whose input is the bound kwargs alone.</summary>
    public Task RunAsync(CancellationToken cancellationToken = default) =>
        _client.DispatchAsync(this, "{}"u8.ToArray(), null, cancellationToken);

    /// <summary>The current status. Throws <see cref="SignatureNotFoundException"/> when the signature is gone.</summary>
    public async Task<SignatureStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        (await _client.Backend.GetSignatureAsync(Id, cancellationToken).ConfigureAwait(false) ?? throw new SignatureNotFoundException(Id)).Status;

    /// <summary>Everything stored about this signature now (status, attempts, timestamps, failure, ...). Throws <see cref="SignatureNotFoundException"/> when it is gone.</summary>
    public async Task<SignatureInfo> GetInfoAsync(CancellationToken cancellationToken = default) =>
        await _client.GetSignatureInfoAsync(Id, cancellationToken).ConfigureAwait(false) ?? throw new SignatureNotFoundException(Id);

    // ---- lifecycle (contract §5): each returns once the new status is stored; a finished signature throws InvalidOperationException ----

    /// <summary>
    /// Suspended: a run that arrives is parked with its input, not executed, and no callback fires; a body already
    /// running goes on, and its outcome is kept for <see cref="ResumeAsync"/>. A suspended task is not retried.
    /// </summary>
    public Task SuspendAsync(CancellationToken cancellationToken = default) =>
        _client.ChangeLifecycleAsync(this, LifecycleAction.Suspend, cancellationToken);

    /// <summary>
    /// Interrupted: as <see cref="SuspendAsync"/>, and a body already running is cancelled through its
    /// <see cref="CancellationToken"/>, on whichever worker runs it; that run is parked for <see cref="ResumeAsync"/>.
    /// </summary>
    public Task InterruptAsync(CancellationToken cancellationToken = default) =>
        _client.ChangeLifecycleAsync(this, LifecycleAction.Interrupt, cancellationToken);

    /// <summary>
    /// Undoes a suspend or interrupt: a parked run is dispatched again with its saved input (status Pending); an
    /// outcome reached while paused is applied (Done/Failed, callbacks fire once); otherwise the status goes back to
    /// what it was. Resuming a signature that is not paused changes nothing.
    /// </summary>
    public Task ResumeAsync(CancellationToken cancellationToken = default) =>
        _client.ChangeLifecycleAsync(this, LifecycleAction.Resume, cancellationToken);

    /// <summary>
    /// Canceled, for good: a queued or parked run is dropped, a running body is cancelled, no callback fires, and the
    /// signature is kept for the done TTL.
    /// </summary>
    public Task CancelAsync(CancellationToken cancellationToken = default) =>
        _client.ChangeLifecycleAsync(this, LifecycleAction.Cancel, cancellationToken);

    /// <summary>
    /// Runs a Failed task again (an operator's "retry", e.g. from the dashboard): the signature becomes Pending with its
    /// attempts counted from 0, and one run is queued with the input of the run that failed
    /// (<see cref="SignatureInfo.FailedInput"/>). Its outcome fires the callbacks that can still run: success callbacks
    /// released by the failure fire while they are kept (the done TTL); an error callback that already ran does not
    /// run again. Only a task on its own can be retried, not a chain, a swarm, or one of their steps or items; anything
    /// else, or a signature that is not Failed, throws <see cref="InvalidOperationException"/> saying why.
    /// </summary>
    public Task RetryAsync(CancellationToken cancellationToken = default) => _client.RetryAsync(this, cancellationToken);

    // ---- run and wait (contract §5) ----

    /// <summary>
    /// Dispatches a run with <paramref name="message"/> and waits until the signature finishes, returning the
    /// result as JSON (a task that returns nothing gives a JSON null). Generated signatures offer a typed
    /// <c>RunAndWaitAsync</c>; this one serves signatures signed by name.
    /// </summary>
    /// <exception cref="MageTaskFailedException">The task failed for good.</exception>
    /// <exception cref="OperationCanceledException">The signature was canceled, or <paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="TimeoutException">It did not finish within <paramref name="timeout"/>; the run goes on.</exception>
    public Task<JsonElement> RunAndWaitAsync<TMessage>(TMessage message, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunAndWaitCoreAsync<TMessage, JsonElement>(message, timeout, cancellationToken);

    /// <summary>The typed run-and-wait generated signatures expose: dispatch, wait, and read the result as <typeparamref name="TResult"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected async Task<TResult> RunAndWaitCoreAsync<TMessage, TResult>(TMessage message, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var finished = await FinishAsync(message, timeout, cancellationToken).ConfigureAwait(false);
        var result = finished.Result is { Length: > 0 } json ? json : "null"u8.ToArray();
        try
        {
            return JsonSerializer.Deserialize(result, _client.JsonOptions.TypeInfo<TResult>())!;
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException(
                $"Signature {Id} ({TaskName}) finished, but its result cannot be read as {typeof(TResult).FullName}: {ex.Message}", ex);
        }
    }

    /// <summary>The run-and-wait of a task that returns nothing: dispatch and wait.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected async Task RunAndWaitCoreAsync<TMessage>(TMessage message, TimeSpan? timeout, CancellationToken cancellationToken) =>
        await FinishAsync(message, timeout, cancellationToken).ConfigureAwait(false);

    private async Task<SignatureRecord> FinishAsync<TMessage>(TMessage message, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var finished = await _client.RunAndWaitAsync(this, _client.MessageJson(TaskName, message), timeout, cancellationToken).ConfigureAwait(false);
        return finished.Status switch
        {
            SignatureStatus.Done => finished,
            SignatureStatus.Canceled => throw new OperationCanceledException($"Signature {Id} ({TaskName}) was canceled before it finished."),
            _ => throw new MageTaskFailedException(Id, TaskName, finished.Failure?.Error ?? "no error was recorded", finished.Failure?.Kind ?? TaskFailureKind.Error),
        };
    }

    /// <summary><c>task#id</c>.</summary>
    public override string ToString() => $"{TaskName}#{Id}";
}

/// <summary>A signature whose runs take <typeparamref name="TMessage"/> messages.</summary>
public class TaskSignature<TMessage> : TaskSignature
{
    internal TaskSignature(MageFlowClient client, SignatureRecord record) : base(client, record) { }

    /// <summary>Wraps another signature object (used by generated typed signatures).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected TaskSignature(TaskSignature signature) : base(signature) { }

    /// <summary>Dispatches a run with <paramref name="message"/>; does not wait for it.</summary>
    public Task RunAsync(TMessage message, object? kwargs = null, CancellationToken cancellationToken = default) =>
        RunAsync<TMessage>(message, kwargs, cancellationToken);
}

/// <summary>The kwargs bound to a signature. Generated signatures expose a typed subclass.</summary>
public class SignatureKwargs
{
    private readonly TaskSignature _signature;

    /// <summary>Wraps the kwargs of <paramref name="signature"/> (generated typed kwargs derive from this class).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected internal SignatureKwargs(TaskSignature signature) => _signature = signature;

    /// <summary>The serializer options for values bound through this object.</summary>
    protected JsonSerializerOptions JsonOptions => _signature.Client.JsonOptions;

    /// <summary>
    /// Replaces each top-level kwarg named in <paramref name="kwargs"/> (anonymous object, dictionary, record);
    /// persisted atomically at once (rule 5).
    /// </summary>
    public Task UpdateAsync(object kwargs, CancellationToken cancellationToken = default) =>
        UpdateAsync(_signature.Client.KwargsOf(_signature.TaskName, kwargs, "kwargs"), cancellationToken);

    /// <summary>Replaces each kwarg in <paramref name="kwargs"/>; persisted atomically at once.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task UpdateAsync(KwargsBuilder kwargs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(kwargs);
        if (kwargs.Count == 0) return;
        _signature.Client.ThrowIfTooLarge(_signature.TaskName, "kwargs", MageFlowClient.KwargsSize(kwargs.Entries));
        if (!await _signature.Client.Backend.UpdateKwargsAsync(_signature.Id, kwargs.Entries, cancellationToken).ConfigureAwait(false))
            throw new SignatureNotFoundException(_signature.Id);
    }

    /// <summary>Reads the kwargs bound now, as a JSON object.</summary>
    public async Task<JsonElement> GetAsync(CancellationToken cancellationToken = default)
    {
        var record = await _signature.Client.Backend.GetSignatureAsync(_signature.Id, cancellationToken).ConfigureAwait(false)
                     ?? throw new SignatureNotFoundException(_signature.Id);
        var json = Composition.InputComposer.Compose("{}"u8.ToArray(), record.Kwargs, default);
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Starts a typed update: generated code adds each set member, then calls <see cref="UpdateAsync(KwargsBuilder, CancellationToken)"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected KwargsBuilder NewBuilder() => new(JsonOptions);
}
