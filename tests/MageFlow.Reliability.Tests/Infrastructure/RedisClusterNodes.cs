using MageFlow.TestRedis;

namespace MageFlow.Reliability.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster of three masters (no replicas), each a <see cref="RedisServer"/> started with
/// <c>--cluster-enabled yes</c> and joined by <c>redis-cli --cluster create … --cluster-replicas 0 --cluster-yes</c>;
/// ready once every node says <c>cluster_state:ok</c>.
/// </summary>
public sealed class RedisClusterNodes(bool appendOnly) : IAsyncDisposable
{
    private readonly RedisServer[] _nodes = Enumerable.Range(0, 3).Select(_ => new RedisServer(appendOnly, clusterNode: true)).ToArray();

    /// <summary>The node on <paramref name="port"/>, which a test may crash and restart (it rejoins from its nodes.conf).</summary>
    public RedisServer NodeOn(int port) => _nodes.Single(node => node.Port == port);

    /// <summary>Every node, comma-separated, as a StackExchange.Redis configuration string.</summary>
    public string Configuration => string.Join(",", _nodes.Select(node => node.Configuration));

    public async Task StartAsync()
    {
        foreach (var node in _nodes) await node.StartAsync();
        await RedisCli.CreateClusterAsync(_nodes.Select(node => node.Port).ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
    }
}
