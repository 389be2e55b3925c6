namespace MageFlow.Benchmarks.Infrastructure;

/// <summary>Median and spread of repeated measurements.</summary>
internal sealed record Spread(double Median, double Min, double Max, IReadOnlyList<double> Samples)
{
    public static Spread Of(IEnumerable<double> samples)
    {
        var sorted = samples.OrderBy(x => x).ToArray();
        if (sorted.Length == 0) throw new ArgumentException("No samples.", nameof(samples));
        var mid = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new Spread(median, sorted[0], sorted[^1], sorted);
    }
}
