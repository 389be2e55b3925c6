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
}
