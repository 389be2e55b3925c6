using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MageFlow.Reliability.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port that a test may crash (SIGKILL) and restart on the same port
/// and directory, with AOF (<c>--appendonly yes --appendfsync always</c>) or without any persistence.
/// (The approach of the Runtime tests' RedisServerFixture, plus restarts.)
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    /// <param name="clusterNode">Started with <c>--cluster-enabled yes</c>, as a node of <see cref="RedisClusterNodes"/>.</param>
    public RedisServer(bool appendOnly, bool clusterNode = false)
    {
        AppendOnly = appendOnly;
        ClusterNode = clusterNode;
        Port = FreeLoopbackPort();
        Directory = Path.Combine(Path.GetTempPath(), $"mageflow-reliability-{Port}-{Guid.NewGuid():N}"[..48]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public bool AppendOnly { get; }

    public bool ClusterNode { get; }

    public int Port { get; }

    public string Directory { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static string Executable =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists)
        ?? (File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server"
            : throw new InvalidOperationException("redis-server was not found on PATH or at /usr/bin/redis-server; run `bash scripts/test.sh`, which installs it."));

    public async Task StartAsync()
    {
        if (IsRunning) throw new InvalidOperationException("redis-server is already running.");
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] arguments = AppendOnly
            ? ["--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", Directory, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no"]
            : ["--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", Directory, "--save", "", "--appendonly", "no", "--daemonize", "no"];
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (ClusterNode) foreach (var argument in new[] { "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf" }) start.ArgumentList.Add(argument);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await AnswersPingAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"redis-server did not answer PING on port {Port}. Its output:\n{Log}");
            await Task.Delay(25);
        }
    }

    /// <summary>A crash: SIGKILL, no shutdown save. With <c>appendfsync always</c> every acknowledged write is on disk.</summary>
    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } process) return;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public async Task RestartAsync()
    {
        await KillAsync();
        await StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
        finally { listener.Stop(); }
    }

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }
}
