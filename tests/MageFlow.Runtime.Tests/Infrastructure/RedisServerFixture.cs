using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace MageFlow.Runtime.Tests.Infrastructure;

/// <summary>What a suite that runs on one redis-server and on a Redis Cluster needs of either.</summary>
public interface IRedisDeployment
{
    /// <summary>A StackExchange.Redis configuration string for it.</summary>
    string Configuration { get; }

    /// <summary>A connection (admin commands allowed) for tests to inspect keys.</summary>
    IDatabase Database { get; }

    /// <summary>The server that holds a store's keys (its key prefix is their hash tag).</summary>
    IServer ServerOfStore(string keyPrefix);
}

/// <summary>
/// A real, throw-away <c>redis-server</c> on a free loopback port, without persistence, for the tests of one
/// collection. Tests isolate themselves with <see cref="NewPrefix"/> rather than by flushing.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime, IRedisDeployment
{
    private Process? _server;
    private ConnectionMultiplexer? _inspector;

    public int Port { get; private set; }

    /// <summary>A StackExchange.Redis configuration string for the server, e.g. <c>127.0.0.1:6390</c>.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>A direct connection (admin commands allowed) for tests to inspect keys.</summary>
    public IDatabase Database => (_inspector ?? throw new InvalidOperationException("The Redis fixture has not started.")).GetDatabase();

    public IServer Server => _inspector!.GetServer("127.0.0.1", Port);

    public IServer ServerOfStore(string keyPrefix) => Server;

    /// <summary>A key prefix no other test uses (short, so memory figures stay realistic).</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        Port = RedisProcess.FreeLoopbackPort();
        _server = await RedisProcess.StartAsync(Port, ["--save", "", "--appendonly", "no"]);
        _inspector = await ConnectionMultiplexer.ConnectAsync($"{Configuration},allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        if (_inspector is not null) await _inspector.DisposeAsync();
        await RedisProcess.StopAsync(_server);
    }
}

/// <summary>Starting and stopping real <c>redis-server</c> processes on free loopback ports.</summary>
internal static class RedisProcess
{
    /// <summary>Starts <c>redis-server</c> on <paramref name="port"/> with the given settings and waits until it answers PING.</summary>
    public static async Task<Process> StartAsync(int port, IEnumerable<string> settings, string? workingDirectory = null)
    {
        var executable = FindRedisServer()
                         ?? throw new InvalidOperationException(
                             "redis-server was not found on PATH or at /usr/bin/redis-server. The Redis tests need a real server: run `bash scripts/test.sh`, which installs it.");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--daemonize", "no" }.Concat(settings))
            start.ArgumentList.Add(argument);
        var output = new StringBuilder();
        var server = new Process { StartInfo = start };
        server.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        server.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        server.Start();
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await AnswersPingAsync(port))
        {
            if (server.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (output) log = output.ToString();
                await StopAsync(server);
                throw new InvalidOperationException($"redis-server ({executable}) did not answer PING on port {port}. Its output:\n{log}");
            }
            await Task.Delay(50);
        }
        return server;
    }

    public static async Task StopAsync(Process? server)
    {
        if (server is { HasExited: false })
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
        server?.Dispose();
    }

    public static string? FindRedisServer()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }
        return File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : null;
    }

    public static int FreeLoopbackPort()
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

    private static async Task<bool> AnswersPingAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
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
