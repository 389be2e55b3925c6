using MageFlow.Backends.InMemory;

namespace MageFlow.Runtime.Tests.Health;

/// <summary>The health checks on the in-memory backend.</summary>
public sealed class InMemoryHealthCheckTests : HealthCheckTests
{
    private readonly InMemoryBackend _store = new();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseInMemory(_store);
}
