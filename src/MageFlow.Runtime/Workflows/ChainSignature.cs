namespace MageFlow;

/// <summary>
/// A chain (contract §6): steps run one after another, each step's result injected into the next step's return
/// member. A chain is a signature: it has an id and a status, the lifecycle operations (applied to every step),
/// <c>RunAsync</c>, and it can be a callback, a chain step or a swarm item.
/// </summary>
public sealed class ChainSignature : TaskSignature
{
    internal ChainSignature(MageFlowClient client, Signatures.SignatureRecord record) : base(client, record) { }

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<string> StepIds => Record.ChildIds;
}
