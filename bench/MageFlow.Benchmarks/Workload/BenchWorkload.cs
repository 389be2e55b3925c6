namespace MageFlow.Benchmarks.Workload;

/// <summary>
/// How the benchmark signs and runs its task + callback pairs and its swarm items: by the hand-registered
/// descriptors, or by the generated builders once the generator is part of the build. Both produce the same
/// signatures and runs.
/// </summary>
internal abstract class BenchWorkload
{
    public abstract string Description { get; }

    /// <summary>Makes the tasks known to a host's client and worker.</summary>
    public abstract void Register(MageFlowOptions options);

    public abstract Task<TaskSignature> SignCallbackAsync(IMageFlow mage, int index);

    public abstract Task<TaskSignature> SignWorkAsync(IMageFlow mage, TaskSignature callback);

    public abstract Task RunAsync(TaskSignature work, int index);

    /// <summary>A work signature without callbacks: the swarm's summary callback stands for them.</summary>
    public abstract Task<TaskSignature<WorkMessage>> SignSwarmItemAsync(IMageFlow mage);

    public abstract Task<TaskSignature> SignSwarmSummaryAsync(IMageFlow mage);
}

/// <summary>TaskDescriptor.Create + options.AddTask; kwargs bound through KwargsBuilder as generated code does.</summary>
internal sealed class HandRegisteredWorkload : BenchWorkload
{
    public override string Description => "hand-registered TaskDescriptor.Create tasks";

    public override void Register(MageFlowOptions options)
    {
        options.IncludeGeneratedTasks = false;
        foreach (var descriptor in BenchTasks.Descriptors()) options.AddTask(descriptor);
    }

    public override Task<TaskSignature> SignCallbackAsync(IMageFlow mage, int index) =>
        mage.AsignAsync(new SignatureRequest(BenchTasks.Done) { Kwargs = new KwargsBuilder(mage.JsonOptions).Add("index", index) });

    public override Task<TaskSignature> SignWorkAsync(IMageFlow mage, TaskSignature callback) =>
        mage.AsignAsync(new SignatureRequest(BenchTasks.Work)
        {
            Kwargs = new KwargsBuilder(mage.JsonOptions).Add("source", "bench"),
            SuccessCallbacks = [callback],
        });

    public override Task RunAsync(TaskSignature work, int index) => work.RunAsync(new WorkMessage(index));

    public override Task<TaskSignature<WorkMessage>> SignSwarmItemAsync(IMageFlow mage) =>
        mage.AsignAsync<WorkMessage>(BenchTasks.Work, new KwargsBuilder(mage.JsonOptions).Add("source", "bench"));

    public override Task<TaskSignature> SignSwarmSummaryAsync(IMageFlow mage) => mage.AsignAsync(new SignatureRequest(BenchTasks.SwarmSummary));
}
