using MageFlow.Backends.InMemory;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>Mage.Default is process-wide, so these run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AmbientCollection
{
    public const string Name = "ambient client";
}

[Collection(AmbientCollection.Name)]
public sealed class AmbientClientTests
{
    [Fact]
    public async Task After_a_host_starts_its_client_is_Mage_Default_and_after_it_stops_it_is_not()
    {
        var shop = new Shop();
        var store = new InMemoryBackend();
        var cluster = await TestCluster.StartAsync(o => o.UseInMemory(store), shop.Register);
        try
        {
            Assert.True(Mage.HasDefault);
            var audit = await Mage.AsignAsync(Shop.Audit, new { source = "ambient" });
            var order = await Mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);
            await order.RunAsync(new OrderMessage("ambient-1", 1m));
            var received = (AuditMessage)(await shop.Recorder.WaitForAsync(Shop.Audit, 1))[0].Message!;
            Assert.Equal("ambient", received.Source);
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        Assert.False(Mage.HasDefault);
        var error = Assert.Throws<InvalidOperationException>(() => Mage.Default);
        Assert.Contains("AddMageFlow", error.Message);
    }
}
