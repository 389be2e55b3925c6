using System.Text.Json;
using MageFlow.Backends;

namespace MageFlow.Testing;

/// <summary>Why a run was dispatched.</summary>
public enum DispatchReason
{
    /// <summary>The code ran the signature (<c>RunAsync</c>, <c>RunAndWaitAsync</c>), or a resume dispatched a parked run again.</summary>
    Run = 0,

    /// <summary>A step of a chain: the first gets the chain's message, each next one the previous step's result.</summary>
    ChainStep = 1,

    /// <summary>An item of a swarm, started when a slot was free (at most <c>SwarmOptions.MaxConcurrency</c> at once).</summary>
    SwarmItem = 2,

    /// <summary>A success callback of a signature that finished Done: its input holds the result in its return member.</summary>
    SuccessCallback = 3,

    /// <summary>An error callback of a signature that failed for good: its input is the failed task's input plus its own kwargs.</summary>
    ErrorCallback = 4,
}

/// <summary>What a recorded run came to, once a test finished it.</summary>
public enum RecordedOutcome
{
    /// <summary>Dispatched and not finished: nothing ran it yet.</summary>
    Waiting = 0,

    /// <summary>Finished with a result (<see cref="MageRecorder.CompleteAsync"/>, or its body returned under <see cref="MageRecorder.ExecuteAsync"/>).</summary>
    Completed = 1,

    /// <summary>Failed for good (<see cref="MageRecorder.FailAsync"/>, or its body failed under <see cref="MageRecorder.ExecuteAsync"/>).</summary>
    Failed = 2,

    /// <summary>Not run: its signature was suspended, interrupted or canceled when the test tried, so a worker would not have run it either.</summary>
    NotRun = 3,
}

/// <summary>
/// One run the code under test dispatched (or that a finished run dispatched as a callback, chain step or swarm
/// item), with the input the task would receive: composed exactly as a worker composes it (semantics rule 2).
/// </summary>
public sealed class RecordedDispatch
{
    private readonly JsonSerializerOptions _jsonOptions;

    internal RecordedDispatch(int sequence, RecordedSignature signature, DispatchReason reason, RecordedSignature? callbackOf, JsonElement input,
        Delivery delivery, JsonSerializerOptions jsonOptions)
    {
        Sequence = sequence;
        Signature = signature;
        Reason = reason;
        CallbackOf = callbackOf;
        Input = input;
        Delivery = delivery;
        _jsonOptions = jsonOptions;
    }

    /// <summary>1 for the first dispatch the recorder saw, then 2, 3, ...: the order of dispatch.</summary>
    public int Sequence { get; }

    /// <summary>The task dispatched.</summary>
    public string TaskName => Signature.TaskName;

    /// <summary>The id of the signature dispatched.</summary>
    public string SignatureId => Signature.Id;

    /// <summary>The signature dispatched.</summary>
    public RecordedSignature Signature { get; }

    /// <summary>Why it was dispatched.</summary>
    public DispatchReason Reason { get; }

    /// <summary>For a success or error callback: the signature whose outcome dispatched it (the one listing it as a callback).</summary>
    public RecordedSignature? CallbackOf { get; }

    /// <summary>The chain or swarm it runs in, if any.</summary>
    public RecordedSignature? Parent => Signature.Parent;

    /// <summary>The input the task receives: its base deep-merged with the bound, container and call-time kwargs, with MageFlow's wire names.</summary>
    public JsonElement Input { get; }

    /// <summary><see cref="Input"/> as JSON text.</summary>
    public string InputJson => Input.GetRawText();

    /// <summary>For an error callback: what failed (what <c>TaskContext.Failure</c> holds when it runs).</summary>
    public TaskFailure? Failure => Delivery.Envelope.Failure;

    /// <summary>What the test made of it so far.</summary>
    public RecordedOutcome Outcome { get; internal set; }

    internal Delivery Delivery { get; }

    /// <summary>Reads <see cref="Input"/> as <typeparamref name="TMessage"/>, the way a worker deserializes a task's message.</summary>
    public TMessage InputAs<TMessage>() =>
        Input.Deserialize<TMessage>(_jsonOptions) ?? throw new InvalidOperationException($"The input of {this} is JSON null.");

    /// <summary><c>task#id (reason) {input}</c>.</summary>
    public override string ToString() =>
        $"{Signature} ({Describe(Reason)}{((CallbackOf ?? Parent) is { } source ? $" of {source}" : "")}) {InputJson}";

    private static string Describe(DispatchReason reason) => reason switch
    {
        DispatchReason.ChainStep => "chain step",
        DispatchReason.SwarmItem => "swarm item",
        DispatchReason.SuccessCallback => "success callback",
        DispatchReason.ErrorCallback => "error callback",
        _ => "run",
    };
}
