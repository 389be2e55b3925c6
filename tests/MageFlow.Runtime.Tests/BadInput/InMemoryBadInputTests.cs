using System.Collections;
using System.Reflection;
using MageFlow.Backends.InMemory;

namespace MageFlow.Runtime.Tests.BadInput;

/// <summary>The bad-input suite on the in-memory backend: one store shared by every host of a test.</summary>
public sealed class InMemoryBadInputTests : BadInputTests
{
    private readonly InMemoryBackend _store = new();

    protected override Action<MageFlowOptions> UseBackend() => o => o.UseInMemory(_store);

    protected override Action<MageFlowOptions> UseOtherStore()
    {
        var other = new InMemoryBackend();
        return o => o.UseInMemory(other);
    }

    private protected override IStorageProbe Probe(LabCluster cluster) => new InMemoryProbe(_store);
}

/// <summary>Reads the in-memory store's private collections (test-only reflection; no behaviour is changed).</summary>
internal sealed class InMemoryProbe(InMemoryBackend store) : IStorageProbe
{
    private static readonly FieldInfo Signatures = Field(typeof(InMemoryBackend), "_signatures");
    private static readonly FieldInfo Queues = Field(typeof(InMemoryBackend), "_queues");

    public Task<int> SignatureCountAsync() => Task.FromResult(((ICollection)Signatures.GetValue(store)!).Count);

    public Task<long> QueueLengthAsync(string taskName)
    {
        var queues = (IDictionary)Queues.GetValue(store)!;
        if (!queues.Contains(taskName)) return Task.FromResult(0L);
        var queue = queues[taskName]!;
        long count = 0;
        foreach (var name in new[] { "Ready", "Pending" })
            count += ((ICollection)queue.GetType().GetProperty(name)!.GetValue(queue)!).Count;
        return Task.FromResult(count);
    }

    private static FieldInfo Field(Type type, string name) =>
        type.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException($"{type.Name}.{name} not found: update the bad-input storage probe.");
}
