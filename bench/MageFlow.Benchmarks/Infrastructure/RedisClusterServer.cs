using System.Diagnostics;

namespace MageFlow.Benchmarks.Infrastructure;

/// <summary>
/// A private Redis Cluster of three masters and no replicas, as the runtime's cluster tests start one: three
/// <see cref="RedisServer"/>s in cluster mode, joined by <c>redis-cli --cluster create</c>, ready once every node
/// says <c>cluster_state:ok</c>. Disposing it kills the nodes and deletes their directories.
/// </summary>
internal sealed class RedisClusterServer : IDisposable
{
    public const int Masters = 3;

    private static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(30);

    private readonly List<RedisServer> _nodes;

    private RedisClusterServer(List<RedisServer> nodes) => _nodes = nodes;

    /// <summary>Every node, comma-separated: a StackExchange.Redis configuration string (MageFlow's UseRedis takes it as is).</summary>
    public string Endpoints => string.Join(",", _nodes.Select(node => node.Endpoint));

    public static async Task<RedisClusterServer> StartAsync(CancellationToken cancellationToken)
    {
        var cluster = new RedisClusterServer([]);
        try
        {
            for (var i = 0; i < Masters; i++)
                cluster._nodes.Add(await RedisServer.StartAsync(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"], cancellationToken).ConfigureAwait(false));
            var create = await RunRedisCliAsync(["--cluster", "create", .. cluster._nodes.Select(node => node.Endpoint), "--cluster-replicas", "0", "--cluster-yes"], cancellationToken).ConfigureAwait(false);
            if (create.ExitCode != 0) throw new InvalidOperationException($"redis-cli --cluster create failed ({create.ExitCode}): {create.Output}");
            await cluster.WaitUntilEveryNodeIsOkAsync(cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>The nodes learn of each other's slots over the cluster bus, so each one only serves once it has seen them all.</summary>
    private async Task WaitUntilEveryNodeIsOkAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        foreach (var node in _nodes)
        {
            while (!(await RunRedisCliAsync(["-p", node.Port.ToString(), "cluster", "info"], cancellationToken).ConfigureAwait(false)).Output.Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (clock.Elapsed > ReadyLimit) throw new InvalidOperationException($"The cluster node at {node.Endpoint} did not report cluster_state:ok within {ReadyLimit.TotalSeconds:0} s.");
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunRedisCliAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(RedisServer.ResolveExecutable("redis-cli"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null for redis-cli.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(ReadyLimit, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A hung or cancelled redis-cli must not outlive the benchmark.
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output.ConfigureAwait(false) + await error.ConfigureAwait(false));
    }

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
    }
}
