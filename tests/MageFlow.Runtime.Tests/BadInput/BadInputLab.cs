using System.Collections.Concurrent;
using MageFlow.Runtime.Tests.Contract;
using MageFlow.Runtime.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MageFlow.Runtime.Tests.BadInput;

public sealed record Measurement(string Name, double Value);

/// <summary>A result that refers to itself: it cannot be serialized.</summary>
public sealed class Loop
{
    public string Name { get; set; } = "loop";

    public Loop? Next { get; set; }
}

/// <summary>
/// The contract suite's <see cref="Shop"/> (process-order has 2 retries, so "failed at once" and "retried" differ)
/// plus tasks whose results cannot be stored. Every body records its run in <see cref="Recorder"/>.
/// </summary>
internal sealed class Lab
{
    public const string NanResult = "bi-nan-result";
    public const string CyclicResult = "bi-cyclic-result";
    public const string BigResult = "bi-big-result";

    /// <summary>The payload limit every bad-input cluster runs with (MageFlowOptions.MaxPayloadBytes).</summary>
    public const int PayloadLimit = 64 * 1024;

    public Shop Shop { get; } = new() { ProcessOrderRetries = 2 };

    public Recorder Recorder => Shop.Recorder;

    public IEnumerable<TaskDescriptor> Tasks()
    {
        foreach (var task in Shop.Tasks()) yield return task;
        var retried = new TaskOptions { Retries = 2 };
        yield return TaskDescriptor.Create<OrderMessage, Measurement>(NanResult, (message, context, _) =>
        {
            Recorder.Add(NanResult, message, context);
            return ValueTask.FromResult(new Measurement(message.OrderId, double.NaN));
        }, retried);
        yield return TaskDescriptor.Create<OrderMessage, Loop>(CyclicResult, (message, context, _) =>
        {
            Recorder.Add(CyclicResult, message, context);
            var loop = new Loop { Name = message.OrderId };
            loop.Next = loop;
            return ValueTask.FromResult(loop);
        }, retried);
        yield return TaskDescriptor.Create<OrderMessage, string>(BigResult, (message, context, _) =>
        {
            Recorder.Add(BigResult, message, context);
            return ValueTask.FromResult(new string('r', PayloadLimit + 4096));
        }, retried);
    }

    public void Register(MageFlowOptions options)
    {
        foreach (var task in Tasks()) options.AddTask(task);
    }
}

/// <summary>What the runtime logged at Information or above, to check "dropped and logged".</summary>
internal sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Message, int EventId)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Message, int EventId)> Entries => _entries.ToArray();

    public bool Logged(LogLevel atLeast, string text, StringComparison comparison = StringComparison.Ordinal) =>
        _entries.Any(e => e.Level >= atLeast && e.Message.Contains(text, comparison));

    public ILogger CreateLogger(string categoryName) => new Sink(this, categoryName);

    public void Dispose() { }

    private sealed class Sink(LogSink owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            owner._entries.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : " | " + exception.Message), eventId.Id));
        }
    }
}

/// <summary>
/// A producer client and worker hosts over one backend, as <see cref="TestCluster"/>, with the bad-input settings
/// (64 KiB payload limit, short visibility timeout so a run left pending is taken over quickly) and captured logs.
/// </summary>
internal sealed class LabCluster : IAsyncDisposable
{
    private readonly List<IHost> _hosts = [];
    private readonly Action<MageFlowOptions> _useBackend;
    private readonly Action<MageFlowOptions>? _configure;
    private readonly Lab _lab;

    private LabCluster(Lab lab, Action<MageFlowOptions> useBackend, Action<MageFlowOptions>? configure)
    {
        _lab = lab;
        _useBackend = useBackend;
        _configure = configure;
    }

    public IMageFlow Client { get; private set; } = null!;

    public LogSink Logs { get; } = new();

    public int InFlight => _hosts.Sum(h => h.Services.GetService<Execution.MageWorker>()?.InFlightCount ?? 0);

    public static async Task<LabCluster> StartAsync(Lab lab, Action<MageFlowOptions> useBackend, Action<MageFlowOptions>? configure = null, int workers = 1)
    {
        var cluster = new LabCluster(lab, useBackend, configure);
        cluster.Client = await cluster.StartClientAsync(useBackend);
        for (var i = 0; i < workers; i++) await cluster.StartWorkerAsync();
        return cluster;
    }

    /// <summary>Another producer-only client (its own host), on the given backend.</summary>
    public async Task<IMageFlow> StartClientAsync(Action<MageFlowOptions> useBackend) =>
        (await StartHostAsync(useBackend, withWorker: false)).Services.GetRequiredService<IMageFlow>();

    public Task<IHost> StartWorkerAsync() => StartHostAsync(_useBackend, withWorker: true);

    private async Task<IHost> StartHostAsync(Action<MageFlowOptions> useBackend, bool withWorker)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Logging.AddProvider(Logs);
        builder.Services.AddMageFlow(o =>
        {
            o.IncludeGeneratedTasks = false;
            useBackend(o);
            _lab.Register(o);
            o.MaxPayloadBytes = Lab.PayloadLimit;
            _configure?.Invoke(o);
        });
        if (withWorker)
            builder.Services.AddMageFlowWorker(o =>
            {
                o.RetryDelay = TimeSpan.FromMilliseconds(20);
                o.ReadWait = TimeSpan.FromMilliseconds(200);
                o.VisibilityTimeout = TimeSpan.FromSeconds(2);
            });
        var host = builder.Build();
        await host.StartAsync();
        _hosts.Add(host);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            try
            {
                await host.StopAsync();
            }
            finally
            {
                host.Dispose();
            }
        }
        _hosts.Clear();
    }
}
