namespace MageFlow.Benchmarks.Workload;

internal static class Workloads
{
    /// <summary>The generated builders when the generator is part of the build, else hand-registered descriptors.</summary>
    public static BenchWorkload Best() => new HandRegisteredWorkload();
}
