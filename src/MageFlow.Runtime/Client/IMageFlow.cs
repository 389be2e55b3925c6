using System.ComponentModel;
using System.Text.Json;

namespace MageFlow;

/// <summary>
/// The MageFlow client: signs tasks (stores a signature with bound kwargs and callbacks) and reads them back.
/// Registered by <c>services.AddMageFlow(...)</c>; the generated builders (<c>ProcessOrder.AsignAsync(mage, ...)</c>)
/// are the typed way in.
/// </summary>
public interface IMageFlow
{
    /// <summary>The tasks this client knows (generated and hand-registered).</summary>
    MageTaskRegistry Tasks { get; }

    /// <summary>The serializer options of the wire format (see <see cref="MageJson"/>).</summary>
    JsonSerializerOptions JsonOptions { get; }

    /// <summary>
    /// Signs a task by name. The registered task definition decides the message type; <paramref name="kwargs"/>
    /// is an anonymous object, dictionary or record whose members become bound kwargs. Fails with
    /// <see cref="UnknownTaskException"/> when no process has registered the task.
    /// </summary>
    Task<TaskSignature> AsignAsync(
        string taskName,
        object? kwargs = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Signs a task by name with an explicit message type: its return field is used for injection and the
    /// returned signature runs with <typeparamref name="TMessage"/> messages.
    /// </summary>
    Task<TaskSignature<TMessage>> AsignAsync<TMessage>(
        string taskName,
        object? kwargs = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        CancellationToken cancellationToken = default);

    /// <summary>The general form the generated builders call; hand-written code signs by name.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    Task<TaskSignature> AsignAsync(SignatureRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Signs a chain (contract §6): the steps run one after another, each step's result injected into the next
    /// step's return member; every step gets <paramref name="kwargs"/> as call-time kwargs. The success callbacks get
    /// the last step's result; when a step fails for good, the error callbacks get that step's input. A step must
    /// not be a step or item of another chain or swarm.
    /// </summary>
    Task<ChainSignature> ChainAsync(
        IEnumerable<TaskSignature> steps,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        object? kwargs = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Signs a swarm (contract §7): items run with at most <see cref="SwarmOptions.MaxConcurrency"/> at once; once
    /// it is closed and every item has finished, its success callbacks get the results of the items that succeeded.
    /// </summary>
    Task<SwarmSignature> SwarmAsync(
        SwarmOptions? options = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        object? kwargs = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Signs a swarm whose items return <typeparamref name="TResult"/>: as <see cref="SwarmAsync(SwarmOptions?, IEnumerable{TaskSignature}?, IEnumerable{TaskSignature}?, object?, CancellationToken)"/>,
    /// and the analyzers check its success callbacks against a list of <typeparamref name="TResult"/> and its items
    /// against <typeparamref name="TResult"/>.
    /// </summary>
    Task<SwarmSignature<TResult>> SwarmAsync<TResult>(
        SwarmOptions? options = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        object? kwargs = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// A stored signature, to run it or change its lifecycle (<see cref="TaskSignature.SuspendAsync"/>, ...); null when
    /// it does not exist (never created, expired or deleted).
    /// </summary>
    Task<TaskSignature?> GetSignatureAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// What is stored about a signature now: status, last status, task, kwargs, callbacks, attempts, timestamps and
    /// the failure if any; null when it does not exist.
    /// </summary>
    Task<SignatureInfo?> GetSignatureInfoAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The stored signatures matching <paramref name="query"/> (status, task name), in no particular order — for
    /// operators and dashboards: on Redis it scans the key space, so keep it off the hot path.
    /// </summary>
    IAsyncEnumerable<SignatureInfo> ListSignaturesAsync(SignatureQuery? query = null, CancellationToken cancellationToken = default);
}

/// <summary>A request to sign a task; generated builders fill every member they know statically.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class SignatureRequest
{
    /// <summary>A request to sign the task named <paramref name="taskName"/>.</summary>
    public SignatureRequest(string taskName) => TaskName = taskName;

    /// <summary>The name of the task to sign.</summary>
    public string TaskName { get; }

    /// <summary>The kwargs to bind; null binds none.</summary>
    public KwargsBuilder? Kwargs { get; init; }

    /// <summary>The signatures to run after the task succeeds, each given its result.</summary>
    public IEnumerable<TaskSignature>? SuccessCallbacks { get; init; }

    /// <summary>The signatures to run after the task finally fails.</summary>
    public IEnumerable<TaskSignature>? ErrorCallbacks { get; init; }

    /// <summary>The message type; when null the task definition's is used.</summary>
    public Type? MessageType { get; init; }

    /// <summary>The wire name receiving a result when this signature is a success callback; when null the task definition's.</summary>
    public string? ReturnField { get; init; }
}

/// <summary>No process has registered a task of this name.</summary>
public sealed class UnknownTaskException(string taskName)
    : Exception($"Unknown task '{taskName}': it is not a [MageTask] of this application and no worker has registered it. Check the name, or start a worker that runs it (AddMageFlowWorker) before signing by name.")
{
    /// <summary>The name that no process has registered.</summary>
    public string TaskName { get; } = taskName;
}

/// <summary>A signature awaited with <c>RunAndWaitAsync</c> failed for good.</summary>
public sealed class MageTaskFailedException : Exception
{
    /// <summary>The task <paramref name="taskName"/> of signature <paramref name="signatureId"/> failed for good with <paramref name="error"/>.</summary>
    public MageTaskFailedException(string signatureId, string taskName, string error, TaskFailureKind kind = TaskFailureKind.Error)
        : base($"Task '{taskName}' (signature {signatureId}) failed ({kind}): {error}")
    {
        SignatureId = signatureId;
        TaskName = taskName;
        Error = error;
        Kind = kind;
    }

    /// <summary>The failed signature.</summary>
    public string SignatureId { get; }

    /// <summary>The failed task.</summary>
    public string TaskName { get; }

    /// <summary>The error recorded for the last attempt: the exception type and message.</summary>
    public string Error { get; }

    /// <summary>Why it failed.</summary>
    public TaskFailureKind Kind { get; }
}

/// <summary>The signature does not exist: never created, expired (TTL) or deleted after finishing.</summary>
public sealed class SignatureNotFoundException(string signatureId)
    : Exception($"Signature '{signatureId}' does not exist: it was never created, or it expired or was deleted after finishing (see MageFlowOptions.DoneTtl and ActiveTtl).")
{
    /// <summary>The id that was looked up.</summary>
    public string SignatureId { get; } = signatureId;
}
