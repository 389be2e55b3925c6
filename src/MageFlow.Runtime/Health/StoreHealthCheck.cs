using System.Diagnostics;
using MageFlow.Backends;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MageFlow.Health;

/// <summary><see cref="MageFlowHealthCheckNames.Store"/>: one round trip through the backend's own connection.</summary>
internal sealed class StoreHealthCheck(IMageBackend backend) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await backend.PingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{backend.StoreId} does not answer: {ex.Message}", ex,
                new Dictionary<string, object> { ["store"] = backend.StoreId });
        }
        var roundTrip = Stopwatch.GetElapsedTime(started);
        return HealthCheckResult.Healthy($"{backend.StoreId} answers ({HealthText.Duration(roundTrip)}).",
            new Dictionary<string, object> { ["store"] = backend.StoreId, ["roundTripSeconds"] = roundTrip.TotalSeconds });
    }
}
