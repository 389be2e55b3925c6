using System.Text.Json;
using MageFlow.EndToEnd.Tests.Tasks;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MageFlow.EndToEnd.Tests;

/// <summary>
/// The contract's signing flow (contract.md §2) through the generated builders, on a started host with a worker.
/// Each backend runs the same tests through a subclass that only chooses the backend.
/// </summary>
public abstract class EndToEndTests : IAsyncLifetime
{
    private IHost? _host;

    protected IMageFlow Mage => _host?.Services.GetRequiredService<IMageFlow>() ?? throw new InvalidOperationException("The host has not started.");

    private FeePaymentGateway Gateway => (FeePaymentGateway)_host!.Services.GetRequiredService<IPaymentGateway>();

    /// <summary>Chooses the backend, e.g. <c>options.UseInMemory()</c>.</summary>
    protected abstract void ConfigureBackend(MageFlowOptions options);

    public async Task InitializeAsync()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<IPaymentGateway, FeePaymentGateway>();
        builder.Services.AddMageFlow(ConfigureBackend);
        builder.Services.AddMageFlowWorker(o => { o.RetryDelay = TimeSpan.FromMilliseconds(20); });
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is null) return;
        await _host.StopAsync();
        _host.Dispose();
    }

    private static string NewOrderId(string prefix = "o-") => prefix + Guid.NewGuid().ToString("N");

    private static Task WaitForStatus(TaskSignature signature, SignatureStatus expected) =>
        Eventually.Until(async () => await signature.GetStatusAsync() == expected, $"{signature} to become {expected}");

    [Fact]
    public async Task Success_callbacks_receive_the_result_in_their_return_member_and_their_bound_kwargs()
    {
        var orderId = NewOrderId();
        var confirm = await SendConfirmation.AsignAsync(Mage, template: "welcome");
        var audit = await Audit.AsignAsync(Mage, source: "checkout");
        var notify = await NotifyFailure.AsignAsync(Mage, channel: "email");

        var order = await ProcessOrder.AsignAsync(Mage, successCallbacks: [confirm, audit], errorCallbacks: [notify]);
        await order.RunAsync(new OrderMessage(orderId, 12.5m));

        var confirmation = Assert.Single(await Eventually.Received<ConfirmationMessage>(orderId, SendConfirmation.TaskName));
        Assert.Equal(new ConfirmationMessage(new OrderReceipt(orderId, 12.5m), "welcome"), confirmation);
        var audited = Assert.Single(await Eventually.Received<AuditMessage>(orderId, Audit.TaskName));
        Assert.Equal(new AuditMessage(new OrderReceipt(orderId, 12.5m), "checkout"), audited);

        await WaitForStatus(order, SignatureStatus.Done);
        await WaitForStatus(confirm, SignatureStatus.Done);
        await WaitForStatus(audit, SignatureStatus.Done);
        Assert.Single(TaskRecorder.Messages<OrderMessage>(orderId, ProcessOrder.TaskName));
        Assert.Empty(TaskRecorder.Messages<OrderFailedMessage>(orderId, NotifyFailure.TaskName));
    }

    [Fact]
    public async Task A_failing_task_reaches_its_error_callback_once_after_all_attempts()
    {
        var orderId = NewOrderId(OrderTasks.FailingOrderPrefix);
        var confirm = await SendConfirmation.AsignAsync(Mage, template: "welcome");
        var notify = await NotifyFailure.AsignAsync(Mage, channel: "email");
        var order = await ProcessOrder.AsignAsync(Mage, priority: "high", successCallbacks: [confirm], errorCallbacks: [notify]);

        await order.RunAsync(new OrderMessage(orderId, 40m));

        var failure = Assert.Single(await Eventually.Received<OrderFailedMessage>(orderId, NotifyFailure.TaskName));
        Assert.Equal(new OrderFailedMessage(orderId, 40m, "high", "email"), failure);
        Assert.Equal(ProcessOrder.TaskName, TaskRecorder.For(orderId).Single(r => r.TaskName == NotifyFailure.TaskName).FailedTask);

        await WaitForStatus(order, SignatureStatus.Failed);
        await WaitForStatus(notify, SignatureStatus.Done);
        Assert.Equal(3, TaskRecorder.Messages<OrderMessage>(orderId, ProcessOrder.TaskName).Count); // Retries = 2
        Assert.Equal(3, (await order.GetInfoAsync()).Attempts);
        Assert.Empty(TaskRecorder.Messages<ConfirmationMessage>(orderId, SendConfirmation.TaskName));
    }

    [Fact]
    public async Task Kwargs_updated_through_the_typed_binder_are_seen_by_the_task()
    {
        var orderId = NewOrderId();
        var order = await ProcessOrder.AsignAsync(Mage);

        await order.Kwargs.UpdateAsync(priority: "high");
        await order.RunAsync(new OrderMessage(orderId, 7m, Priority: "low"));

        var received = Assert.Single(await Eventually.Received<OrderMessage>(orderId, ProcessOrder.TaskName));
        Assert.Equal(new OrderMessage(orderId, 7m, "high"), received);
        var bound = await order.Kwargs.GetAsync();
        Assert.Equal("high", bound.GetProperty("priority").GetString());
    }

    [Fact]
    public async Task Binding_null_overrides_the_message_while_leaving_a_member_unset_keeps_it()
    {
        var unsetId = NewOrderId();
        var nullId = NewOrderId();
        var unset = await ProcessOrder.AsignAsync(Mage);
        var boundToNull = await ProcessOrder.AsignAsync(Mage, priority: null);

        await unset.RunAsync(new OrderMessage(unsetId, 1m, Priority: "normal"));
        await boundToNull.RunAsync(new OrderMessage(nullId, 1m, Priority: "normal"));

        Assert.Equal("normal", Assert.Single(await Eventually.Received<OrderMessage>(unsetId, ProcessOrder.TaskName)).Priority);
        Assert.Null(Assert.Single(await Eventually.Received<OrderMessage>(nullId, ProcessOrder.TaskName)).Priority);
        Assert.False((await unset.Kwargs.GetAsync()).TryGetProperty("priority", out _));
        Assert.Equal(JsonValueKind.Null, (await boundToNull.Kwargs.GetAsync()).GetProperty("priority").ValueKind);
    }

    [Fact]
    public async Task The_builders_overload_without_a_client_uses_the_ambient_default()
    {
        var orderId = NewOrderId();
        var confirm = await SendConfirmation.AsignAsync(template: "ambient");
        var order = await ProcessOrder.AsignAsync(successCallbacks: [confirm]);

        Assert.Same(Mage, global::MageFlow.Mage.Default);
        Assert.NotNull(await Mage.GetSignatureAsync(order.Id));
        await order.RunAsync(new OrderMessage(orderId, 3m));

        var confirmation = Assert.Single(await Eventually.Received<ConfirmationMessage>(orderId, SendConfirmation.TaskName));
        Assert.Equal(new ConfirmationMessage(new OrderReceipt(orderId, 3m), "ambient"), confirmation);
    }

    [Fact]
    public async Task Signing_by_name_uses_the_registered_task_definition()
    {
        var orderId = NewOrderId();
        var confirm = await Mage.AsignAsync("send-confirmation", new { template = "x" });
        var order = await ProcessOrder.AsignAsync(Mage, successCallbacks: [confirm]);

        Assert.Equal("receipt", confirm.ReturnField);
        await order.RunAsync(new OrderMessage(orderId, 2m));

        var confirmation = Assert.Single(await Eventually.Received<ConfirmationMessage>(orderId, SendConfirmation.TaskName));
        Assert.Equal(new ConfirmationMessage(new OrderReceipt(orderId, 2m), "x"), confirmation);
    }

    [Fact]
    public async Task An_instance_task_gets_its_dependency_from_DI()
    {
        var orderId = NewOrderId();
        var audit = await Audit.AsignAsync(Mage, source: "billing");
        var charge = await Charge.AsignAsync(Mage, successCallbacks: [audit]);

        await charge.RunAsync(new OrderMessage(orderId, 10m));

        var audited = Assert.Single(await Eventually.Received<AuditMessage>(orderId, Audit.TaskName));
        Assert.Equal(new AuditMessage(new OrderReceipt(orderId, 10m + FeePaymentGateway.Fee), "billing"), audited);
        Assert.Equal(10m + FeePaymentGateway.Fee, Gateway.Charges[orderId]);
        await WaitForStatus(charge, SignatureStatus.Done);
    }

    [Fact]
    public async Task Signing_an_unknown_name_fails_naming_the_task()
    {
        var error = await Assert.ThrowsAsync<UnknownTaskException>(() => Mage.AsignAsync("no-such-task", new { template = "x" }));
        Assert.Equal("no-such-task", error.TaskName);
        Assert.Contains("no-such-task", error.Message);
    }

    [Fact]
    public async Task Every_return_shape_and_parameter_order_is_adapted_and_its_result_reaches_the_success_callback()
    {
        var cases = new (string Key, Func<TaskSignature[], Task<TaskSignature>> Sign, string ExpectedResult)[]
        {
            (NewOrderId("void-"), async callbacks => await SyncVoid.AsignAsync(Mage, successCallbacks: callbacks), "null"),
            (NewOrderId("value-"), async callbacks => await SyncValue.AsignAsync(Mage, successCallbacks: callbacks), "38"),
            (NewOrderId("vt-"), async callbacks => await ValueTaskVoid.AsignAsync(Mage, successCallbacks: callbacks), "null"),
            (NewOrderId("vtv-"), async callbacks => await ValueTaskValue.AsignAsync(Mage, successCallbacks: callbacks), "\"shape-value-task-value:KEY\""),
            (NewOrderId("none-"), async callbacks => await WithoutMessage.AsignAsync(Mage, successCallbacks: callbacks), "7"),
        };

        foreach (var (key, sign, _) in cases)
        {
            var callback = await ShapeResult.AsignAsync(Mage, key: key);
            var task = await sign([callback]);
            if (task.TaskName == WithoutMessage.TaskName) await task.RunAsync();
            else await task.RunAsync(new ShapeMessage(key));
        }

        foreach (var (key, _, expected) in cases)
        {
            var result = Assert.Single(await Eventually.Received<string>(key, ShapeTasks.ResultTask));
            Assert.Equal(expected.Replace("KEY", key), result);
        }
        Assert.Single(TaskRecorder.Messages<ShapeMessage>(cases[0].Key, SyncVoid.TaskName));
        Assert.Single(TaskRecorder.Messages<ShapeMessage>(cases[2].Key, ValueTaskVoid.TaskName));
    }

    [Fact]
    public async Task An_attempt_past_the_tasks_timeout_fails_and_reaches_the_error_callback()
    {
        var key = NewOrderId("slow-");
        var failed = await ShapeFailed.AsignAsync(Mage);
        var slow = await Slow.AsignAsync(Mage, errorCallbacks: [failed]);

        await slow.RunAsync(new ShapeMessage(key));

        Assert.Equal(new ShapeMessage(key), Assert.Single(await Eventually.Received<ShapeMessage>(key, ShapeTasks.FailedTask)));
        await WaitForStatus(slow, SignatureStatus.Failed);
        Assert.Equal(TimeSpan.FromSeconds(1), Slow.Descriptor.Options.Timeout);
        Assert.Equal(1, (await slow.GetInfoAsync()).Attempts);
    }

    [Fact]
    public async Task The_generated_RunAndWaitAsync_returns_the_typed_result()
    {
        var orderId = NewOrderId();
        var confirm = await SendConfirmation.AsignAsync(Mage, template: "welcome");
        var order = await ProcessOrder.AsignAsync(Mage, successCallbacks: [confirm]);

        OrderReceipt receipt = await order.RunAndWaitAsync(new OrderMessage(orderId, 12.5m), TimeSpan.FromSeconds(30));

        Assert.Equal(new OrderReceipt(orderId, 12.5m), receipt);
        Assert.Equal(SignatureStatus.Done, await order.GetStatusAsync());
        Assert.Single(await Eventually.Received<ConfirmationMessage>(orderId, SendConfirmation.TaskName));
    }

    [Fact]
    public async Task The_generated_RunAndWaitAsync_of_a_task_that_returns_nothing_completes_when_it_is_done()
    {
        var key = NewOrderId("void-");
        var task = await SyncVoid.AsignAsync(Mage);

        await task.RunAndWaitAsync(new ShapeMessage(key), TimeSpan.FromSeconds(30));

        Assert.Equal(SignatureStatus.Done, await task.GetStatusAsync());
        Assert.Single(TaskRecorder.Messages<ShapeMessage>(key, SyncVoid.TaskName));
    }

    [Fact]
    public async Task The_generated_RunAndWaitAsync_throws_MageTaskFailedException_after_the_last_attempt()
    {
        var orderId = NewOrderId(OrderTasks.FailingOrderPrefix);
        var order = await ProcessOrder.AsignAsync(Mage);

        var error = await Assert.ThrowsAsync<MageTaskFailedException>(() => order.RunAndWaitAsync(new OrderMessage(orderId, 1m), TimeSpan.FromSeconds(30)));

        Assert.Equal(order.Id, error.SignatureId);
        Assert.Equal(ProcessOrder.TaskName, error.TaskName);
        Assert.Equal(3, TaskRecorder.Messages<OrderMessage>(orderId, ProcessOrder.TaskName).Count);
    }

    [Fact]
    public async Task The_generated_RunAndWaitAsync_ends_with_OperationCanceledException_when_the_task_is_canceled()
    {
        var key = NewOrderId("slow-");
        var slow = await Slow.AsignAsync(Mage);
        var waiting = slow.RunAndWaitAsync(new ShapeMessage(key));
        await Eventually.Until(async () => await slow.GetStatusAsync() == SignatureStatus.Active, "the slow body to start");

        await slow.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(SignatureStatus.Canceled, await slow.GetStatusAsync());
    }

    [Fact]
    public void Every_task_is_registered_at_compile_time_with_its_generated_descriptor()
    {
        Assert.True(Mage.Tasks.TryGet(ProcessOrder.TaskName, out var processOrder));
        Assert.Same(ProcessOrder.Descriptor, processOrder);
        Assert.Equal(3, processOrder.MaxAttempts);
        Assert.Equal(typeof(OrderMessage), processOrder.MessageType);
        Assert.Equal(typeof(OrderReceipt), processOrder.ResultType);

        Assert.Equal("send-confirmation", SendConfirmation.TaskName);
        Assert.Equal("receipt", SendConfirmation.Descriptor.Options.ReturnField);
        Assert.Null(SendConfirmation.Descriptor.ResultType);
        Assert.Equal("mageflow_results", Audit.Descriptor.Options.ReturnField);
        Assert.Equal("charge", Charge.TaskName);
        foreach (var name in new[] { "process-order", "send-confirmation", "audit", "notify-failure", "charge" })
            Assert.True(Mage.Tasks.TryGet(name, out _), $"task '{name}' is registered");
    }
}

/// <summary>The ambient <see cref="Mage.Default"/> is process-wide, so hosts of different backends must not overlap.</summary>
[CollectionDefinition(Name)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}

[Collection(EndToEndCollection.Name)]
public sealed class InMemoryEndToEndTests : EndToEndTests
{
    protected override void ConfigureBackend(MageFlowOptions options) => options.UseInMemory();
}

/// <summary>The same tests on a real redis-server started by the fixture; each test gets its own key prefix.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class RedisEndToEndTests(RedisServerFixture redis) : EndToEndTests, IClassFixture<RedisServerFixture>
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override void ConfigureBackend(MageFlowOptions options) => options.UseRedis(redis.Configuration, r => r.KeyPrefix = _prefix);
}

/// <summary>The same tests on a real three-master Redis Cluster started by the fixture; each test gets its own key prefix, so its own slot.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class RedisClusterEndToEndTests(RedisClusterFixture cluster) : EndToEndTests, IClassFixture<RedisClusterFixture>
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override void ConfigureBackend(MageFlowOptions options) => options.UseRedis(cluster.Configuration, r => r.KeyPrefix = _prefix);
}

/// <summary>
/// The same tests on the three-master cluster with the store split into six partitions (two on each master): callbacks,
/// chain steps and swarm items placed in other partitions than what reaches them go through the outboxes.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class RedisPartitionedClusterEndToEndTests(RedisClusterFixture cluster) : EndToEndTests, IClassFixture<RedisClusterFixture>
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    protected override void ConfigureBackend(MageFlowOptions options) => options.UseRedis(cluster.Configuration, r =>
    {
        r.KeyPrefix = _prefix;
        r.Partitions = 6;
    });
}
