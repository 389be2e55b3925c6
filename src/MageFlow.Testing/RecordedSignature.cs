using System.Text.Json;
using MageFlow.Signatures;

namespace MageFlow.Testing;

/// <summary>What a recorded signature stands for.</summary>
public enum RecordedSignatureKind
{
    /// <summary>A task signed with a builder or by name.</summary>
    Task = 0,

    /// <summary>A chain (<c>IMageFlow.ChainAsync</c>): see <see cref="RecordedSignature.Steps"/>.</summary>
    Chain = 1,

    /// <summary>A swarm (<c>IMageFlow.SwarmAsync</c>): see <see cref="RecordedSignature.Items"/>.</summary>
    Swarm = 2,
}

/// <summary>
/// A signature the code under test created, as the recorder saw it: its task, bound kwargs (updates included),
/// callbacks, and for a chain or swarm its steps or items. Kept after the signature itself expires.
/// </summary>
public sealed class RecordedSignature
{
    private readonly MageRecorder _recorder;
    private readonly List<string> _itemIds = [];

    internal RecordedSignature(MageRecorder recorder, SignatureRecord record)
    {
        _recorder = recorder;
        Record = record;
    }

    /// <summary>The signature as stored at creation, with the kwargs updated since.</summary>
    internal SignatureRecord Record { get; private set; }

    /// <summary>The signature's id (<c>TaskSignature.Id</c>).</summary>
    public string Id => Record.Id;

    /// <summary>The task it runs; a chain's or swarm's is <c>mageflow:chain</c> or <c>mageflow:swarm</c>.</summary>
    public string TaskName => Record.TaskName;

    /// <summary>A task, a chain or a swarm.</summary>
    public RecordedSignatureKind Kind => Record.Kind switch
    {
        SignatureKind.Chain => RecordedSignatureKind.Chain,
        SignatureKind.Swarm => RecordedSignatureKind.Swarm,
        _ => RecordedSignatureKind.Task,
    };

    /// <summary>The bound kwargs now, as one JSON object with MageFlow's wire names.</summary>
    public JsonElement Kwargs => _recorder.KwargsOf(Record);

    /// <summary>Wire name of the member that receives a result when this signature runs as a success callback.</summary>
    public string ReturnField => Record.ReturnField;

    /// <summary>The signatures dispatched with its result when it succeeds.</summary>
    public IReadOnlyList<RecordedSignature> SuccessCallbacks => _recorder.Resolve(Record.SuccessCallbackIds);

    /// <summary>The signatures dispatched with its input when it fails for good.</summary>
    public IReadOnlyList<RecordedSignature> ErrorCallbacks => _recorder.Resolve(Record.ErrorCallbackIds);

    /// <summary>A chain's steps, in order; empty for anything else.</summary>
    public IReadOnlyList<RecordedSignature> Steps => _recorder.Resolve(Record.ChildIds);

    /// <summary>A swarm's items, in the order they were added; empty for anything else.</summary>
    public IReadOnlyList<RecordedSignature> Items
    {
        get
        {
            lock (_itemIds) return _recorder.Resolve(_itemIds.ToArray());
        }
    }

    /// <summary>A swarm's options; null for anything else.</summary>
    public SwarmOptions? SwarmOptions => Record.Swarm?.Options;

    /// <summary>The chain or swarm it became a step or item of; null while it stands alone.</summary>
    public RecordedSignature? Parent => ParentId is { } id ? _recorder.Resolve([id]).SingleOrDefault() : null;

    internal string? ParentId { get; private set; }

    /// <summary>Takes the kwargs as the store holds them after an update, so the store's rule (rule 5) decides.</summary>
    internal void KwargsUpdated(SignatureRecord stored) => Record = Record with { Kwargs = stored.Kwargs };

    internal void JoinedContainer(string parentId) => ParentId = parentId;

    internal void ItemsAdded(IEnumerable<string> ids)
    {
        lock (_itemIds) _itemIds.AddRange(ids);
    }

    /// <summary><c>task#id</c>, as <c>TaskSignature</c> prints itself.</summary>
    public override string ToString() => $"{TaskName}#{Id}";
}
