using System.Diagnostics;

namespace MageFlow.Runtime.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster of three masters (no replicas) on free loopback ports, each node in its own temporary
/// directory: <c>redis-server --cluster-enabled yes</c> three times, joined by
/// <c>redis-cli --cluster create … --cluster-replicas 0 --cluster-yes</c>, ready once every node says
/// <c>cluster_state:ok</c>.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    private const int Masters = 3;
    private readonly List<Process> _nodes = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "mageflow-cluster-" + Guid.NewGuid().ToString("N")[..8]);
    private int[] _ports = [];

    /// <summary>Every node, comma-separated, as a StackExchange.Redis configuration string.</summary>
    public string Configuration => string.Join(",", _ports.Select(port => $"127.0.0.1:{port}"));

    public async Task InitializeAsync()
    {
        _ports = Enumerable.Range(0, Masters).Select(_ => RedisProcess.FreeLoopbackPort()).ToArray();
        foreach (var port in _ports)
        {
            var directory = Path.Combine(_directory, port.ToString());
            Directory.CreateDirectory(directory);
            _nodes.Add(await RedisProcess.StartAsync(port,
                ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--dir", directory, "--save", "", "--appendonly", "no"], directory));
        }
        var create = await RunRedisCliAsync(["--cluster", "create", .. _ports.Select(port => $"127.0.0.1:{port}"), "--cluster-replicas", "0", "--cluster-yes"]);
        if (create.ExitCode != 0) throw new InvalidOperationException($"redis-cli --cluster create failed ({create.ExitCode}):\n{create.Output}");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        foreach (var port in _ports)
        {
            while (!(await RunRedisCliAsync(["-p", port.ToString(), "cluster", "info"])).Output.Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"The cluster node on port {port} never reported cluster_state:ok.");
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await RedisProcess.StopAsync(node);
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { } // a node's files still closing: the temp directory is cleaned by the OS
    }

    private static async Task<(int ExitCode, string Output)> RunRedisCliAsync(IEnumerable<string> arguments)
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
