using MageFlow.Backends.InMemory;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>The contract suite on the in-memory backend: one store shared by every host of a test, as one Redis would be.</summary>
public sealed class InMemoryContractTests : ContractTests
{
    private readonly InMemoryBackend _store = new();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseInMemory(_store);
}
