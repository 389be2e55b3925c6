using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.Infrastructure;

/// <summary>
/// A real, throw-away <c>redis-server</c> on a free loopback port, without persistence, for the tests of one
/// collection. Tests isolate themselves with <see cref="NewPrefix"/> rather than by flushing.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private Process? _server;
    private ConnectionMultiplexer? _inspector;

    public int Port { get; private set; }

    /// <summary>A StackExchange.Redis configuration string for the server, e.g. <c>127.0.0.1:6390</c>.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>A direct connection (admin commands allowed) for tests to inspect keys.</summary>
    public IDatabase Database => (_inspector ?? throw new InvalidOperationException("The Redis fixture has not started.")).GetDatabase();

    public IServer Server => _inspector!.GetServer("127.0.0.1", Port);

    /// <summary>A key prefix no other test uses (short, so memory figures stay realistic).</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        var executable = FindRedisServer()
                         ?? throw new InvalidOperationException(
                             "redis-server was not found on PATH or at /usr/bin/redis-server. The Redis tests need a real server: run `bash scripts/test.sh`, which installs it.");
        Port = FreeLoopbackPort();
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
            start.ArgumentList.Add(argument);
        var output = new StringBuilder();
        _server = new Process { StartInfo = start };
        _server.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        _server.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        _server.Start();
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await AnswersPingAsync())
        {
            if (_server.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (output) log = output.ToString();
                throw new InvalidOperationException($"redis-server ({executable}) did not answer PING on port {Port}. Its output:\n{log}");
            }
            await Task.Delay(50);
        }
        _inspector = await ConnectionMultiplexer.ConnectAsync($"{Configuration},allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        if (_inspector is not null) await _inspector.DisposeAsync();
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }
        _server?.Dispose();
    }

    private static string? FindRedisServer()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }
        return File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : null;
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
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

/// <summary>Every Redis test class joins this collection and so shares one server.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "redis";
}
