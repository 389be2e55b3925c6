using MageFlow.Backends;
using MageFlow.Backends.InMemory;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>The in-memory backend's own promises: bounded memory and one parked copy per retry.</summary>
public sealed class InMemoryBackendTests
{
    [Fact]
    public async Task Finished_signatures_leave_memory_after_the_done_ttl_without_being_read_again()
    {
        var store = new InMemoryBackend();
        var shop = new Shop();
        await using var cluster = await TestCluster.StartAsync(o => o.UseInMemory(store), o =>
        {
            shop.Register(o);
            o.DoneTtl = TimeSpan.FromMilliseconds(200);
        });
        for (var i = 0; i < 200; i++)
        {
            var audit = await cluster.Client.AsignAsync(Shop.Audit, new { source = $"s{i}" });
            await (await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit])).RunAsync(new OrderMessage($"o{i}", 1m));
        }
        await shop.Recorder.WaitForAsync(Shop.Audit, 200);
        Assert.True(store.SignatureCount > 0);

        await Recorder.WaitUntilAsync(() => Task.FromResult(store.SignatureCount == 0), "every finished signature is swept");
    }

    [Fact]
    public async Task A_retry_is_parked_once_even_when_retry_later_is_applied_twice()
    {
        var store = new InMemoryBackend();
        var signature = new Signatures.SignatureRecord("sig", "task-a", "Demo", [], [], [], SignatureStatus.Pending, SignatureStatus.Pending, "r", DateTimeOffset.UtcNow, 0);
        await store.CreateSignatureAsync(signature, TimeSpan.FromHours(1), default);
        await store.DispatchAsync("task-a", new Envelope("sig", EnvelopeKind.Message, "{}"u8.ToArray()), default);
        var delivery = Assert.IsType<Delivery>(Assert.Single(await store.ReadAsync(["task-a"], "w", 10, TimeSpan.Zero, default)));

        await store.RetryLaterAsync(delivery, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), default);
        await store.RetryLaterAsync(delivery, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), default); // a repeated transition

        Assert.Equal(1, await store.PromoteDueRetriesAsync(DateTimeOffset.UtcNow.AddSeconds(1), 10, default));
        Assert.Single(await store.ReadAsync(["task-a"], "w", 10, TimeSpan.Zero, default));
    }
}
