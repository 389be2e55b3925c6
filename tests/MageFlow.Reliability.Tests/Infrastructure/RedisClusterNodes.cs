using System.Diagnostics;

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
        var create = await RedisCliAsync(["--cluster", "create", .. _nodes.Select(node => node.Configuration), "--cluster-replicas", "0", "--cluster-yes"]);
        if (create.ExitCode != 0) throw new InvalidOperationException($"redis-cli --cluster create failed ({create.ExitCode}):\n{create.Output}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        foreach (var node in _nodes)
        {
            while (!(await RedisCliAsync(["-p", node.Port.ToString(), "cluster", "info"])).Output.Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"The cluster node on port {node.Port} never reported cluster_state:ok.");
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
    }

    private static async Task<(int ExitCode, string Output)> RedisCliAsync(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start redis-cli.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output + await error);
    }
}
