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
    protected TaskSignature(TaskSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        _client = signature._client;
        Record = signature.Record;
        Kwargs = new SignatureKwargs(this);
    }

    internal SignatureRecord Record { get; }

    internal MageFlowClient Client => _client;

    public string Id => Record.Id;

    public string TaskName => Record.TaskName;

    /// <summary>Wire name of the member that receives a result when this signature runs as a success callback.</summary>
    public string ReturnField => Record.ReturnField;

    public IReadOnlyList<string> SuccessCallbackIds => Record.SuccessCallbackIds;

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
        (await GetStateAsync(cancellationToken).ConfigureAwait(false)).Status;

    /// <summary>Status, last status and attempts as stored now.</summary>
    public async Task<SignatureState> GetStateAsync(CancellationToken cancellationToken = default)
    {
        var record = await _client.Backend.GetSignatureAsync(Id, cancellationToken).ConfigureAwait(false)
                     ?? throw new SignatureNotFoundException(Id);
        return new SignatureState(record.Status, record.LastStatus, record.Attempts);
    }

    public override string ToString() => $"{TaskName}#{Id}";
}

/// <summary>A signature whose runs take <typeparamref name="TMessage"/> messages.</summary>
public class TaskSignature<TMessage> : TaskSignature
{
    internal TaskSignature(MageFlowClient client, SignatureRecord record) : base(client, record) { }

    protected TaskSignature(TaskSignature signature) : base(signature) { }

    /// <summary>Dispatches a run with <paramref name="message"/>; does not wait for it.</summary>
    public Task RunAsync(TMessage message, object? kwargs = null, CancellationToken cancellationToken = default) =>
        RunAsync<TMessage>(message, kwargs, cancellationToken);
}

/// <summary>A signature's stored state.</summary>
public readonly record struct SignatureState(SignatureStatus Status, SignatureStatus LastStatus, int Attempts);

/// <summary>The kwargs bound to a signature. Generated signatures expose a typed subclass.</summary>
public class SignatureKwargs
{
    private readonly TaskSignature _signature;

    /// <summary>Wraps the kwargs of <paramref name="signature"/> (generated typed kwargs derive from this class).</summary>
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
    protected KwargsBuilder NewBuilder() => new(JsonOptions);
}
