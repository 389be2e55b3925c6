namespace MageFlow.Backends.Redis;

/// <summary>Options of the Redis backend.</summary>
public sealed class RedisBackendOptions
{
    /// <summary>StackExchange.Redis configuration string, e.g. <c>"127.0.0.1:6379"</c>.</summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>Prefix of every key MageFlow writes, so several deployments can share one Redis. Default <c>mf</c>.</summary>
    public string KeyPrefix { get; set; } = "mf";

    /// <summary>The Redis database number; -1 (default) uses the configuration's default.</summary>
    public int Database { get; set; } = -1;

    /// <summary>
    /// How many partitions the store is split into (1 to 256; default 1). Each partition is one Redis Cluster hash slot,
    /// so a store of several partitions spreads its signatures and queues over the cluster's masters; signatures are
    /// placed near the ones they touch, and what a transition must do in another partition is forwarded through an
    /// outbox, exactly once (docs/redis-v2-design.md). On one Redis, keep 1. On a cluster, one or two per master is
    /// enough: every worker reads each partition. Every producer and worker of a store must use the same value; the first
    /// to connect records it, and a different one is refused at connect.
    /// </summary>
    public int Partitions { get; set; } = 1;
}
