using MageFlow.Backends;
using MageFlow.Backends.InMemory;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>Rule 20: a transition that fails on the network is tried again, so the body does not run again.</summary>
public sealed class TransitionRetryTests
{
    [Fact]
    public async Task A_completion_that_fails_on_the_network_is_retried_and_the_body_runs_once()
    {
        var shop = new Shop();
        var backend = new FlakyBackend(new InMemoryBackend(), failingCompletions: 2);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMageFlow(o =>
        {
            o.IncludeGeneratedTasks = false;
            shop.Register(o);
        });
        builder.Services.AddSingleton<IMageBackend>(backend); // the last registration wins: every part uses the flaky one
        builder.Services.AddMageFlowWorker(o => o.ReadWait = TimeSpan.FromMilliseconds(100));
        using var host = builder.Build();
        await host.StartAsync();
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var audit = await mage.AsignAsync(Shop.Audit, new { source = "blip" });
        var order = await mage.AsignAsync(Shop.ProcessOrder, successCallbacks: [audit]);

        await order.RunAsync(new OrderMessage("blip-1", 1m));

        await shop.Recorder.WaitForAsync(Shop.Audit, 1);
        Assert.True(backend.CompletionCalls >= 3, $"{backend.CompletionCalls} completion calls: two failed, then the one that went through");
        Assert.Single(shop.Recorder.Of(Shop.ProcessOrder)); // not run again after the blips
        Assert.Single(shop.Recorder.Of(Shop.Audit));
        Assert.Equal(SignatureStatus.Done, await order.GetStatusAsync());
        await host.StopAsync();
    }

    /// <summary>Fails the first completions with a connection error, as a network blip would; passes everything else through.</summary>
    private sealed class FlakyBackend(IMageBackend inner, int failingCompletions) : ForwardingBackend(inner)
    {
        private int _completionCalls;

        public int CompletionCalls => Volatile.Read(ref _completionCalls);

        public override Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _completionCalls) <= failingCompletions
                ? Task.FromException<FinishOutcome>(new RedisConnectionException(ConnectionFailureType.SocketFailure, CommandFlags.None, "simulated network blip", null, CommandStatus.Unknown))
                : base.CompleteAsync(delivery, resultJson, lifetimes, cancellationToken);
    }
}
