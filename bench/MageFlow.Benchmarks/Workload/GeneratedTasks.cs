namespace MageFlow.Benchmarks.Workload;

/// <summary>
/// The benchmark tasks as an application declares them: [MageTask] methods whose builders and descriptors
/// the generator emits (BenchWork, BenchDone, BenchSwarmSummary). Same bodies as <see cref="BenchTasks"/>.
/// </summary>
public static class GeneratedTasks
{
    [MageTask(BenchTasks.Work)]
    public static ValueTask<WorkResult> BenchWork(WorkMessage message)
    {
        var result = new WorkResult(message.Index, message.Index * 31L);
        RunProbe.Current.WorkEnded(message.Index);
        return ValueTask.FromResult(result);
    }

    [MageTask(BenchTasks.Done)]
    public static ValueTask BenchDone(DoneMessage message)
    {
        var probe = RunProbe.Current;
        probe.CallbackStarted(message.Index);
        if (message.Result is null) throw new InvalidOperationException($"Callback {message.Index} received no result.");
        probe.CallbackFinished(message.Index);
        return ValueTask.CompletedTask;
    }

    [MageTask(BenchTasks.SwarmSummary)]
    public static ValueTask BenchSwarmSummary(SwarmSummaryMessage message)
    {
        RunProbe.Current.SwarmSummarized(message.Results);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Signs through the generated builders (typed kwargs, no reflection), registered by the module initializer.</summary>
internal sealed class GeneratedWorkload : BenchWorkload
{
    public override string Description => "generated [MageTask] builders (BenchWork.AsignAsync / BenchDone.AsignAsync / BenchSwarmSummary.AsignAsync)";

    public override void Register(MageFlowOptions options) => options.IncludeGeneratedTasks = true;

    public override async Task<TaskSignature> SignCallbackAsync(IMageFlow mage, int index) =>
        await BenchDone.AsignAsync(mage, index: index).ConfigureAwait(false);

    public override async Task<TaskSignature> SignWorkAsync(IMageFlow mage, TaskSignature callback) =>
        await BenchWork.AsignAsync(mage, source: "bench", successCallbacks: [callback]).ConfigureAwait(false);

    public override Task RunAsync(TaskSignature work, int index) => ((BenchWork.Signature)work).RunAsync(new WorkMessage(index));

    public override async Task<TaskSignature<WorkMessage>> SignSwarmItemAsync(IMageFlow mage) =>
        await BenchWork.AsignAsync(mage, source: "bench").ConfigureAwait(false);

    public override async Task<TaskSignature> SignSwarmSummaryAsync(IMageFlow mage) =>
        await BenchSwarmSummary.AsignAsync(mage).ConfigureAwait(false);
}
