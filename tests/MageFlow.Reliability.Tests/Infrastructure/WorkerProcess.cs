using System.Diagnostics;
using System.Text;

namespace MageFlow.Reliability.Tests.Infrastructure;

/// <summary>Command-line settings of one MageFlow.Reliability.Worker child process.</summary>
public sealed record WorkerSettings
{
    /// <summary>Task names served (null: every task). Callback workers serve only on-done/on-failed.</summary>
    public string[]? Tasks { get; init; }

    public int VisibilityMs { get; init; } = 1500;

    public int MaxStalls { get; init; } = 3;

    public int DoneTtlMs { get; init; } = 300_000;

    public int ActiveTtlMs { get; init; } = 24 * 3600 * 1000;

    public int Concurrency { get; init; } = 128;

    public int ShutdownMs { get; init; } = 5000;

    public int ReadWaitMs { get; init; } = 200;
}

/// <summary>
/// One real worker process (<c>dotnet MageFlow.Reliability.Worker.dll ...</c>) that a test can SIGKILL, SIGTERM or
/// wait for. Its stdout/stderr are kept for failure messages.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Process _process;

    private WorkerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    /// <summary>The process id, kept after the process has exited or been disposed.</summary>
    public int Pid { get; private set; }

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public Task Exited => _process.WaitForExitAsync();

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The worker dll next to this test assembly's build output, same configuration.</summary>
    public static string DllPath
    {
        get
        {
            var baseDirectory = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);   // .../MageFlow.Reliability.Tests/bin/<Configuration>/net10.0
            var framework = Path.GetFileName(baseDirectory);
            var configuration = Path.GetFileName(Path.GetDirectoryName(baseDirectory))!;
            var path = Path.GetFullPath(Path.Combine(baseDirectory, "..", "..", "..", "..", "MageFlow.Reliability.Worker", "bin", configuration, framework, "MageFlow.Reliability.Worker.dll"));
            return File.Exists(path) ? path : throw new FileNotFoundException($"The reliability worker was not built: {path} is missing (build MageFlow.sln).", path);
        }
    }

    public static WorkerProcess Start(string name, string redisConfiguration, string prefix, int partitions, WorkerSettings settings)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var arguments = new List<string>
        {
            DllPath, "--redis", redisConfiguration, "--prefix", prefix, "--partitions", partitions.ToString(),
            "--visibility-ms", settings.VisibilityMs.ToString(), "--max-stalls", settings.MaxStalls.ToString(),
            "--done-ttl-ms", settings.DoneTtlMs.ToString(), "--active-ttl-ms", settings.ActiveTtlMs.ToString(), "--concurrency", settings.Concurrency.ToString(),
            "--shutdown-ms", settings.ShutdownMs.ToString(), "--read-wait-ms", settings.ReadWaitMs.ToString(),
            "--parent-pid", Environment.ProcessId.ToString(),
        };
        if (settings.Tasks is { } tasks) arguments.AddRange(["--tasks", string.Join(',', tasks)]);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_TieredPGO"] = "0";
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(name, process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (worker._output) worker._output.AppendLine(e.Data);
            if (e.Data.StartsWith("READY", StringComparison.Ordinal)) worker._ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (worker._output) worker._output.AppendLine(e.Data);
        };
        process.Exited += (_, _) => worker._ready.TrySetException(new InvalidOperationException($"worker {name} exited before READY"));
        process.Start();
        worker.Pid = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits for the READY line (the host and its MageFlow services have started).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        try
        {
            await _ready.Task.WaitAsync(timeout);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"Worker {Name} (pid {Pid}) did not print READY within {timeout.TotalSeconds:0.#} s{(HasExited ? $"; it exited with code {ExitCode}" : "")}. Its output:\n{Output}", ex);
        }
    }

    /// <summary>A crash: SIGKILL (what <c>kill -9</c> sends), the whole tree.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>A graceful stop: SIGTERM, which the generic host turns into an orderly shutdown.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Pid.ToString() }, UseShellExecute = false })!)
            await kill.WaitForExitAsync();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"Worker {Name} (pid {Pid}) did not exit within {timeout.TotalSeconds:0.#} s of SIGTERM. Its output:\n{Output}");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
