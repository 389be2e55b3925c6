using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace MageFlow.Benchmarks.Infrastructure;

/// <summary>
/// A private redis-server on a free loopback port, with persistence off. Killed on dispose, on process exit
/// and on Ctrl+C, so an interrupted benchmark never leaves it running.
/// </summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private int _disposed;

    private RedisServer(Process process, int port, string directory)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Endpoint = $"127.0.0.1:{port}";
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public int Port { get; }

    public string Endpoint { get; }

    /// <param name="extraArguments">Added to the command line after the defaults (e.g. cluster mode for a cluster node).</param>
    public static async Task<RedisServer> StartAsync(IReadOnlyList<string> extraArguments, CancellationToken cancellationToken)
    {
        const string executable = "redis-server";
        Exception? last = null;
        // A free port can be taken between probing and binding; a few tries make that harmless.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreeLoopbackPort();
            var directory = Directory.CreateTempSubdirectory("mageflow-bench-redis-").FullName;
            var start = new ProcessStartInfo(ResolveExecutable(executable))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            foreach (var argument in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory, "--daemonize", "no" }.Concat(extraArguments))
                start.ArgumentList.Add(argument);
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null.");
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    $"Could not start '{executable}': {ex.Message}. Install it (apt-get install redis-server) or pass --redis host:port.", ex);
            }
            var output = new System.Text.StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            var server = new RedisServer(process, port, directory);
            try
            {
                await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                string log;
                lock (output) log = output.ToString();
                last = new InvalidOperationException($"redis-server on port {port} did not become ready: {ex.Message}\n{log}", ex);
                server.Dispose();
            }
        }
        throw last!;
    }

    /// <summary>The path of a Redis tool (redis-server, redis-cli) on PATH, else in /usr/bin, else the bare name.</summary>
    public static string ResolveExecutable(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return File.Exists("/usr/bin/" + name) ? "/usr/bin/" + name : name;
    }

    private async Task WaitUntilReadyAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited) throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode}.");
            try
            {
                using var probe = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
                {
                    EndPoints = { Endpoint },
                    ConnectTimeout = 500,
                    AbortOnConnectFail = true,
                }).ConfigureAwait(false);
                await probe.GetDatabase().PingAsync().ConfigureAwait(false);
                return;
            }
            catch (RedisConnectionException) when (deadline.Elapsed < limit)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void OnProcessExit(object? sender, EventArgs e) => Dispose();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException) { } // already gone
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
