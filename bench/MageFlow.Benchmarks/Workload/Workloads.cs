namespace MageFlow.Benchmarks.Workload;

internal static class Workloads
{
    /// <summary>The generated builders (what applications use) unless hand-registered descriptors are asked for.</summary>
    public static BenchWorkload Create(bool handRegistered) => handRegistered ? new HandRegisteredWorkload() : new GeneratedWorkload();
}
