using System.Collections.Concurrent;
using MageFlow.Backends;
using MageFlow.Backends.Redis;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace MageFlow.Runtime.Tests.Redis;

/// <summary>The engine on the Redis backend: a task, its callbacks and a retry, through a real host and redis-server.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisWorkerEndToEndTests(RedisServerFixture redis) : RedisWorkerEndToEndSuite(redis);

/// <summary>The same through a real host and a three-master Redis Cluster.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterWorkerEndToEndTests(RedisClusterFixture cluster) : RedisWorkerEndToEndSuite(cluster);

/// <summary>A task, its callbacks and a retry through a real host, whatever the Redis deployment.</summary>
public abstract class RedisWorkerEndToEndSuite(IRedisDeployment redis)
{

    public sealed record AddMessage(int A, int B);

    public sealed record RecordMessage([property: ReturnValue] int Sum, string Label);

    public sealed record FlakyMessage(string Name);

    public sealed record ErrorMessage(string Name);

    [Fact]
    public async Task A_task_runs_and_its_success_callback_receives_the_result_once()
    {
        var sum = new SumRecorder();
        using var host = await StartHostAsync(sum.Tasks);

        var (add, _) = await sum.RunAddThenRecordOnceAsync(host);

        Assert.Equal(SignatureStatus.Done, await add.GetStatusAsync());
        await host.StopAsync();
    }

    [Fact]
    public async Task A_failing_task_is_retried_then_its_error_callback_gets_the_failure()
    {
        var attempts = 0;
        var failure = new TaskCompletionSource<(ErrorMessage Message, TaskFailure? Failure)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = await StartHostAsync(
            TaskDescriptor.Create<FlakyMessage>("flaky", (_, _, _) =>
            {
                Interlocked.Increment(ref attempts);
                throw new InvalidOperationException("always");
            }, new TaskOptions { Retries = 1, RetryDelay = TimeSpan.FromMilliseconds(50) }),
            TaskDescriptor.Create<ErrorMessage>("on-error", (m, context, _) =>
            {
                failure.TrySetResult((m, context.Failure));
                return ValueTask.CompletedTask;
            }));
        var mage = host.Services.GetRequiredService<IMageFlow>();

        var onError = await mage.AsignAsync<ErrorMessage>("on-error");
        var flaky = await mage.AsignAsync<FlakyMessage>("flaky", errorCallbacks: [onError]);
        await flaky.RunAsync(new FlakyMessage("x"));

        var (message, taskFailure) = await failure.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("x", message.Name);
        Assert.Equal(2, Volatile.Read(ref attempts));
        Assert.Equal(flaky.Id, taskFailure!.SignatureId);
        Assert.Contains("always", taskFailure.Error);
        Assert.Equal(SignatureStatus.Failed, await flaky.GetStatusAsync());
        await host.StopAsync();
    }

    [Fact]
    public async Task A_callback_queued_by_a_completion_is_started_by_it_in_the_slot_the_finished_run_frees()
    {
        var sum = new SumRecorder();
        await using var redisBackend = new RedisBackend(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = RedisServerFixture.NewPrefix() },
            NullLogger<RedisBackend>.Instance);
        var backend = new TakeRecordingBackend(redisBackend);
        using var host = await StartHostAsync(sum.Tasks, backend);

        var (_, callback) = await sum.RunAddThenRecordOnceAsync(host);

        // An idle worker (its read loop blocked, a slot free) offers the finished run's slot: the completion took the
        // callback it queued and started it, with no read or start of its own.
        Assert.Equal([callback.Id], backend.TakenAndStarted);
        Assert.Equal(SignatureStatus.Done, await callback.GetStatusAsync());
        await host.StopAsync();
    }

    [Fact]
    public async Task A_completion_that_fails_for_good_is_reported_and_frees_its_slot_for_the_next_run()
    {
        var sum = new SumRecorder();
        await using var redisBackend = new RedisBackend(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = RedisServerFixture.NewPrefix() },
            NullLogger<RedisBackend>.Instance);
        var backend = new RefusingCompletionBackend(redisBackend, refusedTask: "doomed");
        // One slot: the next run can start only if the refused completion freed it.
        using var host = await StartHostAsync(
            [.. sum.Tasks, TaskDescriptor.Create<FlakyMessage>("doomed", (_, _, _) => ValueTask.CompletedTask)], backend, concurrency: 1);
        var mage = host.Services.GetRequiredService<IMageFlow>();

        var doomed = await mage.AsignAsync<FlakyMessage>("doomed");
        await doomed.RunAsync(new FlakyMessage("x"));
        await backend.Refused.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await sum.RunAddThenRecordOnceAsync(host);

        // Not a network error: tried once, not again; the run is not completed (it is taken over in time).
        Assert.Equal(1, backend.RefusedCount);
        Assert.Equal(SignatureStatus.Active, await doomed.GetStatusAsync());
        await host.StopAsync();
    }

    [Fact]
    public async Task A_completion_offers_no_slot_while_a_loop_waits_for_one_and_offers_it_once_none_waits()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reclaimedRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskDescriptor[] tasks =
        [
            TaskDescriptor.Create<FlakyMessage>("hold", async (_, _, _) => await gate.Task),
            TaskDescriptor.Create<FlakyMessage>("quick", (_, _, _) =>
            {
                reclaimedRan.TrySetResult();
                return ValueTask.CompletedTask;
            }),
        ];
        await using var redisBackend = new RedisBackend(new RedisBackendOptions { Configuration = redis.Configuration, KeyPrefix = RedisServerFixture.NewPrefix() },
            NullLogger<RedisBackend>.Instance);
        var backend = new OfferRecordingBackend(redisBackend);
        await redisBackend.PrepareQueuesAsync(["hold", "quick"], CancellationToken.None);
        using var producer = await StartHostAsync(tasks, backend, withWorker: false);
        var mage = producer.Services.GetRequiredService<IMageFlow>();
        // A "quick" run taken by a worker that died: the worker's reclaim loop takes it over once it has been idle a while.
        await (await mage.AsignAsync<FlakyMessage>("quick")).RunAsync(new FlakyMessage("abandoned"));
        Assert.Single(await redisBackend.ReadAsync(["quick"], "dead-worker", 1, TimeSpan.Zero, CancellationToken.None));
        await (await mage.AsignAsync<FlakyMessage>("hold")).RunAsync(new FlakyMessage("held"));

        // Two slots: "hold" takes one and its read finds the queues drained; the read loop's next (long) read holds the
        // other, so the reclaim loop waits for a slot.
        using var host = await StartHostAsync(tasks, backend, worker: o =>
        {
            o.Concurrency = 2;
            o.VisibilityTimeout = TimeSpan.FromMilliseconds(600);
            o.ReadWait = TimeSpan.FromSeconds(5);
        });
        var worker = host.Services.GetRequiredService<Execution.MageWorker>();
        await Recorder.WaitUntilAsync(() => Task.FromResult(worker.SlotWaiterCount == 1), "the reclaim loop waits for a slot");
        gate.SetResult();
        await reclaimedRan.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await Recorder.WaitUntilAsync(() => Task.FromResult(backend.Completions.Count == 2), "both runs completed");

        // "hold" finished while the reclaim loop waited: its slot went to that loop, not to a run its completion took.
        // "quick" finished with no loop waiting and the queues drained: it offered its slot (the offer path is alive).
        Assert.Equal([("hold", false), ("quick", true)], backend.Completions);
        await host.StopAsync();
        await producer.StopAsync();
    }

    /// <summary>An "add" task whose success callback "record" gets the sum; runs them once and checks the callback got it once.</summary>
    private sealed class SumRecorder
    {
        private readonly ConcurrentQueue<RecordMessage> _recorded = new();
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskDescriptor[] Tasks =>
        [
            TaskDescriptor.Create<AddMessage, int>("add", (m, _, _) => ValueTask.FromResult(m.A + m.B)),
            TaskDescriptor.Create<RecordMessage>("record", (m, _, _) =>
            {
                _recorded.Enqueue(m);
                _done.TrySetResult();
                return ValueTask.CompletedTask;
            }, new TaskOptions { ReturnField = "sum" }),
        ];

        public async Task<(TaskSignature<AddMessage> Add, TaskSignature<RecordMessage> Callback)> RunAddThenRecordOnceAsync(IHost host)
        {
            var mage = host.Services.GetRequiredService<IMageFlow>();
            var callback = await mage.AsignAsync<RecordMessage>("record", new { label = "total" });
            var add = await mage.AsignAsync<AddMessage>("add", successCallbacks: [callback]);
            await add.RunAsync(new AddMessage(2, 3));

            await _done.Task.WaitAsync(TimeSpan.FromSeconds(15));
            await Task.Delay(300); // a duplicate would arrive within this
            Assert.Equal([new RecordMessage(5, "total")], _recorded);
            return (add, callback);
        }
    }

    /// <summary>Refuses every completion of one task as Redis refuses one whose key is not a record (not transient).</summary>
    private sealed class RefusingCompletionBackend(IMageBackend inner, string refusedTask) : ForwardingBackend(inner)
    {
        private readonly IMageBackend _inner = inner;
        private int _refused;

        public TaskCompletionSource Refused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int RefusedCount => Volatile.Read(ref _refused);

        public override ValueTask<FinishOutcome> CompleteAndTakeAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, SlotOffer? offer, CancellationToken cancellationToken) =>
            delivery.TaskName == refusedTask ? new(Refuse(delivery)) : _inner.CompleteAndTakeAsync(delivery, resultJson, lifetimes, offer, cancellationToken);

        // A retry completes without an offer: refused too, and counted.
        public override Task<FinishOutcome> CompleteAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, CancellationToken cancellationToken) =>
            delivery.TaskName == refusedTask ? Refuse(delivery) : _inner.CompleteAsync(delivery, resultJson, lifetimes, cancellationToken);

        private Task<FinishOutcome> Refuse(Delivery delivery)
        {
            Interlocked.Increment(ref _refused);
            Refused.TrySetResult();
            return Task.FromException<FinishOutcome>(new InvalidDataException($"Completing signature {delivery.Envelope.SignatureId} failed in Redis: refused by the test."));
        }
    }

    /// <summary>Passes completions with a slot offer to the Redis backend, noting the runs they took and started.</summary>
    private sealed class TakeRecordingBackend(IMageBackend inner) : ForwardingBackend(inner)
    {
        private readonly IMageBackend _inner = inner;

        public ConcurrentQueue<string> TakenAndStarted { get; } = new();

        public override async ValueTask<FinishOutcome> CompleteAndTakeAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, SlotOffer? offer, CancellationToken cancellationToken)
        {
            var completed = await _inner.CompleteAndTakeAsync(delivery, resultJson, lifetimes, offer, cancellationToken);
            if (completed.Next is { Entry: Delivery next, Started.Result: StartResult.Started })
                TakenAndStarted.Enqueue(next.Envelope.SignatureId);
            return completed;
        }
    }

    /// <summary>Passes every call to the Redis backend, noting for each completion its task and whether it offered a slot.</summary>
    private sealed class OfferRecordingBackend(IMageBackend inner) : ForwardingBackend(inner)
    {
        private readonly IMageBackend _inner = inner;

        public ConcurrentQueue<(string Task, bool Offered)> Completions { get; } = new();

        public override ValueTask<FinishOutcome> CompleteAndTakeAsync(Delivery delivery, ReadOnlyMemory<byte> resultJson, SignatureLifetimes lifetimes, SlotOffer? offer, CancellationToken cancellationToken)
        {
            Completions.Enqueue((delivery.TaskName, offer is not null));
            return _inner.CompleteAndTakeAsync(delivery, resultJson, lifetimes, offer, cancellationToken);
        }
    }

    private Task<IHost> StartHostAsync(params TaskDescriptor[] tasks) => StartHostAsync(tasks, backend: null);

    /// <summary>
    /// A host with the tasks and a worker (unless <paramref name="withWorker"/> is false), on a store of its own; on
    /// <paramref name="backend"/>, with <paramref name="concurrency"/> slots and <paramref name="worker"/>'s options when given.
    /// </summary>
    private async Task<IHost> StartHostAsync(TaskDescriptor[] tasks, IMageBackend? backend, int? concurrency = null, Action<MageWorkerOptions>? worker = null, bool withWorker = true)
    {
        var prefix = RedisServerFixture.NewPrefix();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMageFlow(options =>
        {
            options.IncludeGeneratedTasks = false;
            if (backend is null) options.UseRedis(redis.Configuration, r => r.KeyPrefix = prefix);
            foreach (var task in tasks) options.AddTask(task);
        });
        if (backend is not null) builder.Services.AddSingleton(backend); // the last registration wins: every part uses it
        if (withWorker)
        {
            builder.Services.AddMageFlowWorker(options =>
            {
                options.ReadWait = TimeSpan.FromMilliseconds(200);
                options.RetryDelay = TimeSpan.FromMilliseconds(50);
                if (concurrency is { } slots) options.Concurrency = slots;
                worker?.Invoke(options);
            });
        }
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
