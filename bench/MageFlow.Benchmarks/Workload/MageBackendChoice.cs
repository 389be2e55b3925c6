using MageFlow.Backends.InMemory;
using MageFlow.Benchmarks.Infrastructure;

namespace MageFlow.Benchmarks.Workload;

/// <summary>The backend one MageFlow measurement runs on, fresh for each repetition.</summary>
internal abstract class MageBackendChoice
{
    public abstract string Name { get; }

    public abstract bool IsRedis { get; }

    public abstract void Configure(MageFlowOptions options);

    /// <summary>Starts the next repetition from an empty store.</summary>
    public abstract Task ResetAsync();
}

internal sealed class InMemoryChoice : MageBackendChoice
{
    // Producer and worker hosts share one store, as processes share one Redis.
    private InMemoryBackend _shared = new();

    public override string Name => "in-memory";

    public override bool IsRedis => false;

    public override void Configure(MageFlowOptions options) => options.UseInMemory(_shared);

    public override async Task ResetAsync()
    {
        await _shared.DisposeAsync().ConfigureAwait(false);
        _shared = new InMemoryBackend();
    }
}

/// <param name="endpoint">One redis-server, or a cluster's nodes comma-separated.</param>
/// <param name="name">How measurements and timeouts name it: "Redis" unless it is another deployment (a cluster).</param>
internal sealed class RedisChoice(string endpoint, RedisInfo info, string name = "Redis", int partitions = 1) : MageBackendChoice
{
    public const int Database = 0;

    public override string Name => name;

    public override bool IsRedis => true;

    public string Endpoint => endpoint;

    public override void Configure(MageFlowOptions options) => options.UseRedis(endpoint, redis =>
    {
        redis.KeyPrefix = "mfb";
        redis.Database = Database;
        redis.Partitions = partitions;
    });

    public override Task ResetAsync() => info.FlushDatabaseAsync(Database);
}
