using MageFlow.Backends;
using MageFlow.Backends.InMemory;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>
/// Signals are hints (a dropped connection loses pub/sub messages): with every signal lost, waiters still finish
/// through the client's periodic status read, and interrupted bodies still stop through the worker's keep-alive.
/// And while signals do arrive, waiting reads nothing until something finishes.
/// </summary>
public sealed class SignalTests
{
    [Fact]
    public async Task RunAndWait_completes_when_every_finish_signal_is_lost()
    {
        var shop = new Shop();
        using var host = await StartAsync(shop, new DeafBackend(new InMemoryBackend()));
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var order = await mage.AsignAsync(Shop.ProcessOrder);

        var result = await order.RunAndWaitAsync(new OrderMessage("deaf-1", 1m)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("deaf-1", result.GetProperty("orderId").GetString());
        await host.StopAsync();
    }

    [Fact]
    public async Task Interrupt_stops_the_body_when_every_stop_signal_is_lost()
    {
        var shop = new Shop();
        using var host = await StartAsync(shop, new DeafBackend(new InMemoryBackend()));
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var order = await mage.AsignAsync(Shop.ProcessOrder);
        const string id = "gate-deaf";
        await order.RunAsync(new OrderMessage(id, 1m));
        await shop.Gates.WaitEnteredAsync(id);

        await order.InterruptAsync();

        await shop.Gates.WaitCancelledAsync(id);
        await Recorder.WaitUntilAsync(async () => (await order.GetInfoAsync()).ParkedRuns == 1, "the interrupted run is parked");
        await host.StopAsync();
    }

    [Fact]
    public async Task An_interrupt_that_lands_after_a_read_started_the_run_and_before_the_worker_holds_it_stops_the_body()
    {
        var shop = new Shop();
        // Keep-alive (which also finds interrupted runs) only every 100 s: the stop must come from the signal.
        using var host = await StartAsync(shop, new InterruptingReadBackend(new InMemoryBackend()), visibilityTimeout: TimeSpan.FromMinutes(5));
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var order = await mage.AsignAsync(Shop.ProcessOrder);
        const string id = "gate-between";

        await order.RunAsync(new OrderMessage(id, 1m));

        // Stopped before its body or at its gate, it is parked for resume; missed, the body would wait at its gate.
        await Recorder.WaitUntilAsync(async () => (await order.GetInfoAsync()).ParkedRuns == 1, "the interrupted run is parked");
        Assert.Equal(shop.Gates.Entered(id), shop.Gates.Cancelled(id));
        await host.StopAsync();
    }

    [Fact]
    public async Task Waiting_costs_no_polling_per_waiter()
    {
        var shop = new Shop();
        var backend = new ReadCountingBackend(new InMemoryBackend());
        using var host = await StartAsync(shop, backend, waitCheckInterval: TimeSpan.FromMinutes(5));
        var mage = host.Services.GetRequiredService<IMageFlow>();
        var orders = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => mage.AsignAsync(Shop.ProcessOrder)));
        var waits = orders.Select((order, i) => order.RunAndWaitAsync(new OrderMessage($"gate-cost-{i}", i))).ToArray();
        for (var i = 0; i < orders.Length; i++) await shop.Gates.WaitEnteredAsync($"gate-cost-{i}");
        var readsBefore = backend.Reads;

        await Task.Delay(TimeSpan.FromSeconds(1)); // twenty waiters, every body held at its gate
        var readsWhileWaiting = backend.Reads - readsBefore;
        for (var i = 0; i < orders.Length; i++) shop.Gates.Open($"gate-cost-{i}");
        await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, readsWhileWaiting);
        Assert.True(backend.Reads <= orders.Length * 2, $"{backend.Reads} reads for {orders.Length} waiters: one after the dispatch and one per finish signal at most");
        await host.StopAsync();
    }

    private static async Task<IHost> StartAsync(Shop shop, IMageBackend backend, TimeSpan? waitCheckInterval = null, TimeSpan? visibilityTimeout = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMageFlow(o =>
        {
            o.IncludeGeneratedTasks = false;
            o.WaitCheckInterval = waitCheckInterval ?? TimeSpan.FromMilliseconds(200);
            shop.Register(o);
        });
        builder.Services.AddSingleton(backend); // the last registration wins: every part uses this one
        builder.Services.AddMageFlowWorker(o =>
        {
            o.ReadWait = TimeSpan.FromMilliseconds(100);
            o.VisibilityTimeout = visibilityTimeout ?? TimeSpan.FromMilliseconds(600); // keep-alive every 200 ms by default
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Counts signature reads (what a waiter costs the store).</summary>
    private sealed class ReadCountingBackend(IMageBackend inner) : ForwardingBackend(inner)
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override Task<Signatures.SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            return base.GetSignatureAsync(id, cancellationToken);
        }
    }

    /// <summary>
    /// Starts each run it reads, as the Redis backend's read does under load, interrupts its signature and returns it
    /// only once the worker has handled the stop signal: the stop comes before the worker holds the run.
    /// </summary>
    private sealed class InterruptingReadBackend(IMageBackend inner) : ForwardingBackend(inner)
    {
        private readonly SemaphoreSlim _stopsHandled = new(0);

        public override Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken) =>
            base.SubscribeAsync(kind, id =>
            {
                onSignal(id);
                if (kind == SignalKind.StopRun) _stopsHandled.Release();
            }, cancellationToken);

        public override async Task<IReadOnlyList<TakenEntry>> ReadAndStartAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, TimeSpan activeTtl, CancellationToken cancellationToken)
        {
            var taken = new List<TakenEntry>();
            foreach (var entry in await ReadAsync(taskNames, consumer, maxCount, wait, cancellationToken))
            {
                if (entry is not Delivery delivery)
                {
                    taken.Add(new TakenEntry(entry));
                    continue;
                }
                var started = await StartAsync(delivery, activeTtl, CancellationToken.None);
                Assert.Equal(StartResult.Started, started.Result);
                var interrupted = await ChangeLifecycleAsync(delivery.Envelope.SignatureId, LifecycleAction.Interrupt, new SignatureLifetimes(activeTtl, activeTtl), CancellationToken.None);
                Assert.Equal(SignatureStatus.Interrupted, interrupted.After);
                Assert.True(await _stopsHandled.WaitAsync(TimeSpan.FromSeconds(10)), "the worker never heard the stop signal");
                taken.Add(new TakenEntry(entry, started));
            }
            return taken;
        }
    }

    /// <summary>Subscriptions succeed and never deliver anything.</summary>
    private sealed class DeafBackend(IMageBackend inner) : ForwardingBackend(inner)
    {
        public override Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken) =>
            Task.FromResult<IAsyncDisposable>(new Nothing());

        private sealed class Nothing : IAsyncDisposable
        {
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
