using MageFlow.Backends;
using MageFlow.Backends.InMemory;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using MageFlow.Signatures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
    private sealed class FlakyBackend(IMageBackend inner, int failingCompletions) : IMageBackend
    {
        private int _completionCalls;

        public int CompletionCalls => Volatile.Read(ref _completionCalls);

        public Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _completionCalls) <= failingCompletions
                ? Task.FromException<FinishOutcome>(new RedisConnectionException(ConnectionFailureType.SocketFailure, CommandFlags.None, "simulated network blip", null, CommandStatus.Unknown))
                : inner.CompleteAsync(delivery, resultJson, lifetimes, cancellationToken);

        public string StoreId => inner.StoreId;
        public Task CreateSignatureAsync(SignatureRecord signature, TimeSpan ttl, CancellationToken cancellationToken) => inner.CreateSignatureAsync(signature, ttl, cancellationToken);
        public Task<SignatureRecord?> GetSignatureAsync(string id, CancellationToken cancellationToken) => inner.GetSignatureAsync(id, cancellationToken);
        public Task<bool> UpdateKwargsAsync(string id, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, CancellationToken cancellationToken) => inner.UpdateKwargsAsync(id, kwargs, cancellationToken);
        public Task DispatchAsync(string taskName, Envelope envelope, CancellationToken cancellationToken) => inner.DispatchAsync(taskName, envelope, cancellationToken);
        public Task<SignatureStatus?> DispatchAwaitedAsync(string taskName, Envelope envelope, CancellationToken cancellationToken) => inner.DispatchAwaitedAsync(taskName, envelope, cancellationToken);
        public Task<LifecycleChange> ChangeLifecycleAsync(string id, LifecycleAction action, SignatureLifetimes lifetimes, CancellationToken cancellationToken) => inner.ChangeLifecycleAsync(id, action, lifetimes, cancellationToken);
        public IAsyncEnumerable<SignatureRecord> ListSignaturesAsync(SignatureQuery query, CancellationToken cancellationToken) => inner.ListSignaturesAsync(query, cancellationToken);
        public Task<IAsyncDisposable> SubscribeAsync(SignalKind kind, Action<string> onSignal, CancellationToken cancellationToken) => inner.SubscribeAsync(kind, onSignal, cancellationToken);
        public Task ParkAsync(Delivery delivery, CancellationToken cancellationToken) => inner.ParkAsync(delivery, cancellationToken);
        public Task RegisterTaskDefinitionsAsync(IReadOnlyCollection<TaskDefinition> definitions, CancellationToken cancellationToken) => inner.RegisterTaskDefinitionsAsync(definitions, cancellationToken);
        public Task<TaskDefinition?> GetTaskDefinitionAsync(string name, CancellationToken cancellationToken) => inner.GetTaskDefinitionAsync(name, cancellationToken);
        public Task PrepareQueuesAsync(IReadOnlyCollection<string> taskNames, CancellationToken cancellationToken) => inner.PrepareQueuesAsync(taskNames, cancellationToken);
        public Task<IReadOnlyList<QueueEntry>> ReadAsync(IReadOnlyCollection<string> taskNames, string consumer, int maxCount, TimeSpan wait, CancellationToken cancellationToken) => inner.ReadAsync(taskNames, consumer, maxCount, wait, cancellationToken);
        public Task<IReadOnlyList<QueueEntry>> ReclaimAsync(IReadOnlyCollection<string> taskNames, string consumer, TimeSpan minIdle, int maxCount, CancellationToken cancellationToken) => inner.ReclaimAsync(taskNames, consumer, minIdle, maxCount, cancellationToken);
        public Task<IReadOnlyList<string>> KeepAliveAsync(IReadOnlyCollection<QueueEntry> held, string consumer, TimeSpan activeTtl, CancellationToken cancellationToken) => inner.KeepAliveAsync(held, consumer, activeTtl, cancellationToken);
        public Task<int> RemoveIdleConsumersAsync(IReadOnlyCollection<string> taskNames, string? stoppingConsumer, TimeSpan idleFor, CancellationToken cancellationToken) => inner.RemoveIdleConsumersAsync(taskNames, stoppingConsumer, idleFor, cancellationToken);
        public Task<int> PromoteDueRetriesAsync(DateTimeOffset now, int maxCount, CancellationToken cancellationToken) => inner.PromoteDueRetriesAsync(now, maxCount, cancellationToken);
        public Task<StartOutcome> StartAsync(Delivery delivery, TimeSpan activeTtl, CancellationToken cancellationToken) => inner.StartAsync(delivery, activeTtl, cancellationToken);
        public Task<FinishOutcome> FailAsync(Delivery delivery, ReadOnlyMemory<byte> failedInput, TaskFailure failure, SignatureLifetimes lifetimes, CancellationToken cancellationToken) => inner.FailAsync(delivery, failedInput, failure, lifetimes, cancellationToken);
        public Task RetryLaterAsync(Delivery delivery, DateTimeOffset due, TimeSpan activeTtl, CancellationToken cancellationToken) => inner.RetryLaterAsync(delivery, due, activeTtl, cancellationToken);
        public Task ReleaseAsync(Delivery delivery, string consumer, CancellationToken cancellationToken) => inner.ReleaseAsync(delivery, consumer, cancellationToken);
        public Task AcknowledgeAsync(MalformedEntry entry, CancellationToken cancellationToken) => inner.AcknowledgeAsync(entry, cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
