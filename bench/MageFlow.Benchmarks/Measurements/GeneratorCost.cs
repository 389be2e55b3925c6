using MageFlow.Benchmarks.Reporting;

namespace MageFlow.Benchmarks.Measurements;

internal static class GeneratorCost
{
    public static Task<GeneratorFigure> MeasureAsync(string repositoryRoot, int repetitions, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The generator is not merged into this branch yet.");
}
