using System.Diagnostics;
using MageFlow.Runtime.Tests.Infrastructure;
using MageFlow.Signatures;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>
/// Trace context travels with every queued run: one trace from the producer's send through the task, its callbacks
/// and a chain's steps, each run's span a child of the span that queued it. Read with OpenTelemetry's own SDK and
/// in-memory exporter, as a user's collector would see it.
/// </summary>
public abstract partial class ContractTests
{
    [Fact]
    public async Task Tracing_a_success_callback_runs_as_a_child_of_the_task_run_that_fired_it()
    {
        using var spans = new ExportedSpans();
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var confirm = await cluster.Client.AsignAsync(Shop.SendConfirmation, new { template = "welcome" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, successCallbacks: [confirm]);

        await order.RunAsync(Order(NewOrderId(), 4m));

        var send = await spans.WaitForAsync($"send {Shop.ProcessOrder}", order.Id);
        var run = await spans.WaitForAsync($"process {Shop.ProcessOrder}", order.Id);
        var callback = await spans.WaitForAsync($"process {Shop.SendConfirmation}", confirm.Id);
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal(ActivityKind.Consumer, run.Kind);
        Assert.Equal(send.SpanId, run.ParentSpanId);
        Assert.Equal(run.SpanId, callback.ParentSpanId);
        Assert.All(new[] { run, callback }, span => Assert.Equal(send.TraceId, span.TraceId));
        Assert.Equal(Shop.SendConfirmation, callback.GetTagItem("messaging.destination.name"));
        Assert.Equal("done", callback.GetTagItem("mageflow.outcome"));
        Assert.Single(shop.Recorder.Of(Shop.SendConfirmation));
    }

    [Fact]
    public async Task Tracing_an_error_callback_runs_as_a_child_of_the_failed_run()
    {
        using var spans = new ExportedSpans();
        var (cluster, _) = await StartAsync();
        await using var _ = cluster;
        var notify = await cluster.Client.AsignAsync(Shop.NotifyFailure, new { channel = "email" });
        var order = await cluster.Client.AsignAsync(Shop.ProcessOrder, errorCallbacks: [notify]);

        await order.RunAsync(Order(NewOrderId("fatal"), 4m));

        var run = await spans.WaitForAsync($"process {Shop.ProcessOrder}", order.Id);
        var callback = await spans.WaitForAsync($"process {Shop.NotifyFailure}", notify.Id);
        Assert.Equal("failed", run.GetTagItem("mageflow.outcome"));
        Assert.Equal(ActivityStatusCode.Error, run.Status);
        Assert.Equal(run.SpanId, callback.ParentSpanId);
        Assert.Equal(run.TraceId, callback.TraceId);
    }

    [Fact]
    public async Task Tracing_a_three_step_chain_is_one_trace_each_step_the_child_of_the_step_before()
    {
        using var spans = new ExportedSpans();
        var (cluster, shop) = await StartAsync();
        await using var _ = cluster;
        var mage = cluster.Client;
        var charge = await mage.AsignAsync(Shop.ProcessOrder);
        var ship = await mage.AsignAsync(Shop.Ship);
        var note = await mage.AsignAsync(Shop.Note, new { text = "shipped" });
        var chain = await mage.ChainAsync([charge, ship, note], kwargs: new { carrier = "ups" });

        await chain.RunAsync(Order(NewOrderId(), 2m));

        var send = await spans.WaitForAsync("send " + ContainerNames.Chain, chain.Id);
        var first = await spans.WaitForAsync($"process {Shop.ProcessOrder}", charge.Id);
        var second = await spans.WaitForAsync($"process {Shop.Ship}", ship.Id);
        var third = await spans.WaitForAsync($"process {Shop.Note}", note.Id);
        Assert.Equal(send.SpanId, first.ParentSpanId);
        Assert.Equal(first.SpanId, second.ParentSpanId);
        Assert.Equal(second.SpanId, third.ParentSpanId);
        Assert.All(new[] { first, second, third }, span => Assert.Equal(send.TraceId, span.TraceId));
        Assert.Single(shop.Recorder.Of(Shop.Note));
    }

    /// <summary>MageFlow's spans as OpenTelemetry exports them, for as long as this object lives (every test's spans: filter by signature id).</summary>
    private sealed class ExportedSpans : IDisposable
    {
        private readonly LockedSpans _exported = [];
        private readonly TracerProvider _provider;

        public ExportedSpans() =>
            _provider = Sdk.CreateTracerProviderBuilder().AddSource(MageFlowTelemetry.Name).AddInMemoryExporter(_exported).Build();

        /// <summary>The exported span of that name for that signature, once it ended.</summary>
        public async Task<Activity> WaitForAsync(string name, string signatureId)
        {
            Activity? found = null;
            await Recorder.WaitUntilAsync(() =>
            {
                found = _exported.Find(span => span.DisplayName == name && Equals(span.GetTagItem("mageflow.signature_id"), signatureId));
                return Task.FromResult(found is not null);
            }, $"the span '{name}' of signature {signatureId} is exported");
            return found!;
        }

        public void Dispose() => _provider.Dispose();

        /// <summary>The exporter adds from the threads that end spans while the test reads: both under one lock.</summary>
        private sealed class LockedSpans : System.Collections.ObjectModel.Collection<Activity>
        {
            public Activity? Find(Func<Activity, bool> match)
            {
                lock (Items) return Items.FirstOrDefault(match);
            }

            protected override void InsertItem(int index, Activity item)
            {
                lock (Items) base.InsertItem(index, item);
            }
        }
    }
}
