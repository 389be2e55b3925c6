using System.Diagnostics;

namespace MageFlow.TestRedis;

/// <summary>
/// <c>redis-cli</c> as an operator runs it: the one way the test fixtures create a Redis Cluster and change it
/// (linked into each test project that starts a cluster).
/// </summary>
internal static class RedisCli
{
    /// <summary>Runs redis-cli with <paramref name="arguments"/>; its exit code and its output and errors together.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start redis-cli.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await output + await error);
    }

    /// <summary>
    /// Joins the running <c>--cluster-enabled yes</c> servers on <paramref name="ports"/> into a cluster of masters
    /// (<c>redis-cli --cluster create … --cluster-replicas 0 --cluster-yes</c>) and waits until each says <c>cluster_state:ok</c>.
    /// </summary>
    public static async Task CreateClusterAsync(IReadOnlyCollection<int> ports)
    {
        var create = await RunAsync(["--cluster", "create", .. ports.Select(port => $"127.0.0.1:{port}"), "--cluster-replicas", "0", "--cluster-yes"]);
        if (create.ExitCode != 0) throw new InvalidOperationException($"redis-cli --cluster create failed ({create.ExitCode}):\n{create.Output}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        foreach (var port in ports)
        {
            while (!(await RunAsync(["-p", port.ToString(), "cluster", "info"])).Output.Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"The cluster node on port {port} never reported cluster_state:ok.");
                await Task.Delay(100);
            }
        }
    }
}
