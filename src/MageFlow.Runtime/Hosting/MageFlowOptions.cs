using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MageFlow.Backends;
using MageFlow.Backends.InMemory;
using MageFlow.Backends.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MageFlow;

/// <summary>Client options: the backend, TTLs, the tasks and the JSON set-up.</summary>
public sealed class MageFlowOptions
{
    private JsonSerializerOptions? _jsonOptions;
    private IJsonTypeInfoResolver? _resolver;

    internal Func<IServiceProvider, IMageBackend>? BackendFactory { get; private set; }

    internal IMageBackend? SharedBackend { get; private set; }

    internal string BackendName { get; private set; } = "in-memory";

    /// <summary>Services a backend from another package needs beside it (the recorder of MageFlow.Testing); added by <c>AddMageFlow</c>.</summary>
    internal Action<IServiceCollection>? BackendServices { get; private set; }

    internal List<TaskDescriptor> AddedTasks { get; } = [];

    /// <summary>How long a signature that has not finished is kept (rule 14). Default 24 hours.</summary>
    public TimeSpan ActiveTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a finished signature (and its released callbacks) is kept; zero deletes at once. Default 5 minutes.</summary>
    public TimeSpan DoneTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The largest message, kwargs set or result MageFlow accepts, measured as UTF-8 JSON. Default 2 MiB.
    /// Larger payloads are refused with <see cref="MagePayloadTooLargeException"/> when signing, updating kwargs or
    /// dispatching (nothing is stored); a result over the limit fails its run at once and its error callbacks fire.
    /// Results are copied into every success callback's queue entry, so this also bounds what one transition writes.
    /// </summary>
    public int MaxPayloadBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>
    /// How often a client reads the status of the signatures it waits on (<c>RunAndWaitAsync</c>), in case a finish
    /// notification was lost (a dropped connection). Notifications, not this, are what normally wakes a waiter.
    /// </summary>
    internal TimeSpan WaitCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the generated <c>[MageTask]</c>s of the loaded assemblies are known to this client. Default true.</summary>
    public bool IncludeGeneratedTasks { get; set; } = true;

    /// <summary>Adds source-generated <c>JsonSerializerContext</c>s (trimming/AOT); reflection-based metadata fills the rest.</summary>
    public MageFlowOptions AddJsonTypeInfoResolver(IJsonTypeInfoResolver resolver)
    {
        _resolver = _resolver is null ? resolver : JsonTypeInfoResolver.Combine(_resolver, resolver);
        _jsonOptions = null;
        return this;
    }

    internal JsonSerializerOptions JsonOptions => _jsonOptions ??= _resolver is null ? MageJson.DefaultOptions : MageJson.CreateOptions(_resolver);

    /// <summary>Keeps everything in this process: the default, for samples, tests and single-process apps.</summary>
    public MageFlowOptions UseInMemory()
    {
        BackendName = "in-memory";
        SharedBackend = null;
        BackendServices = null;
        BackendFactory = _ => new InMemoryBackend(TimeProvider.System);
        return this;
    }

    /// <summary>Shares one in-memory store between several clients/workers in the same process.</summary>
    internal MageFlowOptions UseInMemory(InMemoryBackend shared)
    {
        BackendName = "in-memory";
        BackendFactory = null;
        BackendServices = null;
        SharedBackend = shared; // registered as an instance: the container does not dispose it
        return this;
    }

    /// <summary>Uses Redis (StackExchange.Redis configuration string, e.g. <c>"127.0.0.1:6379"</c>).</summary>
    public MageFlowOptions UseRedis(string configuration, Action<RedisBackendOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var redis = new RedisBackendOptions { Configuration = configuration };
        configure?.Invoke(redis);
        BackendName = "redis";
        SharedBackend = null;
        BackendServices = null;
        BackendFactory = services => new RedisBackend(redis, services.GetRequiredService<ILoggerFactory>().CreateLogger<RedisBackend>());
        return this;
    }

    /// <summary>
    /// Plugs a backend that another MageFlow package provides (MageFlow.Testing's <c>UseRecording</c>), with the
    /// services it registers beside it.
    /// </summary>
    internal MageFlowOptions UseBackend(string name, Func<IServiceProvider, IMageBackend> factory, Action<IServiceCollection> registerServices)
    {
        BackendName = name;
        SharedBackend = null;
        BackendServices = registerServices;
        BackendFactory = factory;
        return this;
    }

    /// <summary>Registers a task described by hand (tasks from the generator are added automatically).</summary>
    public MageFlowOptions AddTask(TaskDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        AddedTasks.Add(descriptor);
        return this;
    }
}

/// <summary>Worker options: concurrency, batching, visibility timeout and retry delays.</summary>
public sealed class MageWorkerOptions
{
    /// <summary>
    /// How many runs may be in flight at once in this process. Default 128: tasks are async and mostly wait on
    /// I/O, and more runs in flight let the Redis backend share round trips between them. Lower it for tasks
    /// that hold scarce resources.
    /// </summary>
    public int Concurrency { get; set; } = 128;

    /// <summary>How many entries one read takes. Default 64.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>How long a read waits for new entries before looking again. Default 1 second.</summary>
    public TimeSpan ReadWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// An entry delivered but not acknowledged for this long is taken over by another worker (crash recovery).
    /// Live runs are kept fresh, so this bounds recovery time, not task duration. Default 1 minute.
    /// </summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Delay before the first retry when the task does not set one; doubled per retry. Default 1 second.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of the retry delay. Default 5 minutes.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The consumer name of this worker; unique per process by default.</summary>
    public string ConsumerName { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..^24];

    /// <summary>
    /// How many times a run may be taken over from a worker that stopped answering (crashed, killed, hung) before
    /// it is treated as poison: failed at once, its error callbacks fired, <see cref="TaskFailure.Kind"/> =
    /// <see cref="TaskFailureKind.Stalled"/>. A worker that shuts down gracefully hands its runs over without a stall.
    /// Default 3.
    /// </summary>
    public int MaxStalls { get; set; } = 3;

    /// <summary>
    /// How often the worker re-publishes its task definitions (so producers can sign by name after Redis lost them)
    /// and removes the consumers of stopped workers from its queues. Default 30 seconds.
    /// </summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Only these task names are served; null (default) serves every registered task.</summary>
    public IReadOnlyCollection<string>? Tasks { get; set; }
}
