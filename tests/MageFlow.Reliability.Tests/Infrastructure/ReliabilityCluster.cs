using System.Diagnostics;
using MageFlow.TestRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace MageFlow.Reliability.Tests.Infrastructure;

/// <summary>A signed <c>work</c> task with its success callback (<c>on-done</c>) and error callback (<c>on-failed</c>).</summary>
public sealed record SignedTask(string Id, TaskSignature Task, TaskSignature Callback, TaskSignature ErrorCallback);

/// <summary>What a test runs against: one redis-server, or a Redis Cluster of three masters.</summary>
public enum RedisTopology
{
    /// <summary>One redis-server, which the Redis fault tests crash and restart.</summary>
    OneServer,

    /// <summary>Three masters joined into a Redis Cluster; the store's keys share one hash slot on one of them.</summary>
    Cluster,

    /// <summary>
    /// The same three masters, the store split into six partitions (two on each): callbacks, swarm items and their
    /// outcomes cross masters through the partitions' outboxes.
    /// </summary>
    PartitionedCluster,
}

/// <summary>
/// One test's world: its own redis-server (restartable) or Redis Cluster, worker child processes, a producer client in
/// this process (the public API: AddMageFlow + IMageFlow) and a raw StackExchange.Redis connection for inspection.
/// Disposing kills every child process tree and the servers, even when the test failed.
/// </summary>
public sealed class ReliabilityCluster : IAsyncDisposable
{
    private readonly List<WorkerProcess> _workers = [];
    private readonly List<Supervisor> _supervisors = [];
    private readonly ITestOutputHelper _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly RedisServer? _server;
    private readonly RedisClusterNodes? _nodes;
    private IHost? _producer;
    private ConnectionMultiplexer? _inspector;

    private ReliabilityCluster(ITestOutputHelper output, RedisServer? server, RedisClusterNodes? nodes, int partitions)
    {
        _output = output;
        _server = server;
        _nodes = nodes;
        Partitions = partitions;
        Prefix = "r" + Guid.NewGuid().ToString("N")[..7];
    }

    /// <summary>How many partitions the store is split into (RedisBackendOptions.Partitions), for the producer and every worker.</summary>
    public int Partitions { get; }

    /// <summary>The one redis-server (crashed and restarted by the Redis fault tests); not on a cluster.</summary>
    public RedisServer Redis => _server ?? throw new InvalidOperationException("This test runs on a Redis Cluster: it has no single redis-server.");

    /// <summary>Where MageFlow, the workers and the inspector connect: the server, or every cluster node.</summary>
    public string Configuration => _nodes?.Configuration ?? _server!.Configuration;

    public string Prefix { get; }

    public IMageFlow Mage { get; private set; } = null!;

    /// <summary>Raw connection to the test's Redis (admin commands allowed; reconnects by itself).</summary>
    public IDatabase Db => _inspector!.GetDatabase();

    /// <summary>The server that holds the store's keys: on a cluster, the master serving the store's hash slot (its partition 0's).</summary>
    public IServer Server => _nodes is null
        ? _inspector!.GetServer("127.0.0.1", _server!.Port)
        : _inspector!.GetServer(_inspector.GetServers().First().ClusterConfiguration!.GetBySlot(_inspector.HashSlot("{" + Prefix + "}"))!.EndPoint);

    /// <summary>
    /// Crashes (SIGKILL) the redis-server holding the store and starts it again on the same port and directory: the one
    /// server, or on a cluster the master serving the store's slot, which rejoins the cluster from its nodes.conf.
    /// </summary>
    public async Task CrashAndRestartStoreServerAsync()
    {
        var server = _nodes is null ? Redis : _nodes.NodeOn(((System.Net.IPEndPoint)Server.EndPoint).Port);
        await server.RestartAsync();
        Log($"redis-server on port {server.Port} SIGKILLed and restarted");
    }

    /// <param name="producer">Extra options of the producer client (e.g. its ActiveTtl).</param>
    public static async Task<ReliabilityCluster> CreateAsync(ITestOutputHelper output, bool appendOnly = false, bool startRedis = true, Action<MageFlowOptions>? producer = null,
        RedisTopology topology = RedisTopology.OneServer)
    {
        var cluster = topology switch
        {
            RedisTopology.Cluster => new ReliabilityCluster(output, null, new RedisClusterNodes(appendOnly), partitions: 1),
            RedisTopology.PartitionedCluster => new ReliabilityCluster(output, null, new RedisClusterNodes(appendOnly), partitions: 6),
            _ => new ReliabilityCluster(output, new RedisServer(appendOnly), null, partitions: 1),
        };
        try
        {
            if (cluster._nodes is { } nodes) await nodes.StartAsync();
            else if (startRedis) await cluster.Redis.StartAsync();
            var inspector = ConfigurationOptions.Parse(cluster.Configuration);
            inspector.AllowAdmin = true;
            inspector.AbortOnConnectFail = false;
            inspector.ConnectTimeout = 1000;
            inspector.ClientName = "test-inspector";
            cluster._inspector = await ConnectionMultiplexer.ConnectAsync(inspector);

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddMageFlow(o =>
            {
                o.UseRedis(cluster.Configuration, r => { r.KeyPrefix = cluster.Prefix; r.Partitions = cluster.Partitions; });
                o.IncludeGeneratedTasks = false;
                foreach (var descriptor in ReliabilityTasks.All(recorder: null)) o.AddTask(descriptor);
                producer?.Invoke(o);
            });
            cluster._producer = builder.Build();
            await cluster._producer.StartAsync();
            cluster.Mage = cluster._producer.Services.GetRequiredService<IMageFlow>();
            cluster.Log($"Redis: {topology} at {cluster.Configuration}");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public void Log(string line) => _output.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:0.000}s] {line}");

    // ---- workers ----

    /// <summary>Starts a worker child process and (by default) waits for its READY line.</summary>
    public async Task<WorkerProcess> StartWorkerAsync(string name, WorkerSettings settings, bool waitReady = true)
    {
        var worker = WorkerProcess.Start(name, Configuration, Prefix, Partitions, settings);
        lock (_workers) _workers.Add(worker);
        if (waitReady) await worker.WaitReadyAsync(TimeSpan.FromSeconds(30));
        return worker;
    }

    /// <summary>Keeps one worker of these settings running: starts a new process whenever the current one dies.</summary>
    public Supervisor Supervise(string name, WorkerSettings settings)
    {
        var supervisor = new Supervisor(this, name, settings);
        _supervisors.Add(supervisor);
        return supervisor;
    }

    public sealed class Supervisor
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _starts;

        internal Supervisor(ReliabilityCluster cluster, string name, WorkerSettings settings)
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var worker = await cluster.StartWorkerAsync($"{name}#{Interlocked.Increment(ref _starts)}", settings, waitReady: false);
                    Current = worker;
                    try { await worker.Exited.WaitAsync(_stop.Token); }
                    catch (OperationCanceledException) { return; }
                    cluster.Log($"{worker.Name} (pid {worker.Pid}) exited with code {worker.ExitCode}; restarting");
                }
            });
        }

        public WorkerProcess? Current { get; private set; }

        /// <summary>How many processes this supervisor has started.</summary>
        public int Starts => Volatile.Read(ref _starts);

        internal async Task StopAsync()
        {
            await _stop.CancelAsync();
            try { await _loop; }
            catch (OperationCanceledException) { }
        }
    }

    // ---- producer ----

    /// <summary>Signs <c>work</c> with an <c>on-done</c> and an <c>on-failed</c> callback bound to its id, and runs it.</summary>
    public async Task<SignedTask> SignAndRunWorkAsync(string id, int sleepMs)
    {
        var callback = await Bounded($"signing on-done of {id}", Mage.AsignAsync<DoneMessage>(ReliabilityTasks.OnDone, new { parent = id }));
        var errorCallback = await Bounded($"signing on-failed of {id}", Mage.AsignAsync<FailedMessage>(ReliabilityTasks.OnFailed, new { parent = id }));
        var task = await Bounded($"signing work {id}", Mage.AsignAsync<WorkMessage>(ReliabilityTasks.Work, null, [callback], [errorCallback]));
        await Bounded($"running work {id}", task.RunAsync(new WorkMessage(id, sleepMs)));
        return new SignedTask(id, task, callback, errorCallback);
    }

    /// <summary>A producer call that never returns fails the test naming the call, instead of hanging it.</summary>
    private static async Task<T> Bounded<T>(string call, Task<T> task)
    {
        await Bounded(call, (Task)task);
        return await task;
    }

    private static async Task Bounded(string call, Task task)
    {
        try { await task.WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { throw new TimeoutException($"The producer's call, {call}, did not return within 30 s."); }
    }

    public async Task<SignedTask> SignAndRunPoisonAsync(string id)
    {
        var callback = await Mage.AsignAsync<DoneMessage>(ReliabilityTasks.OnDone, new { parent = id });
        var errorCallback = await Mage.AsignAsync<FailedMessage>(ReliabilityTasks.OnFailed, new { parent = id });
        var task = await Mage.AsignAsync<PoisonMessage>(ReliabilityTasks.Poison, null, [callback], [errorCallback]);
        await task.RunAsync(new PoisonMessage(id));
        return new SignedTask(id, task, callback, errorCallback);
    }

    /// <summary>Signs many tasks with bounded parallelism.</summary>
    public async Task<List<SignedTask>> SignAndRunManyAsync(IEnumerable<string> ids, int sleepMs, int parallelism = 32)
    {
        var signed = new System.Collections.Concurrent.ConcurrentBag<SignedTask>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            async (id, _) => signed.Add(await SignAndRunWorkAsync(id, sleepMs)));
        return [.. signed];
    }

    public async Task<SignatureStatus?> StatusAsync(TaskSignature signature)
    {
        var stored = await Mage.GetSignatureAsync(signature.Id);
        return stored is null ? null : await stored.GetStatusAsync();
    }

    // ---- what the workers recorded ----

    public async Task<string[]> MembersAsync(string what) =>
        (await Db.SetMembersAsync(Recorder.Key(Prefix, what))).Select(v => (string)v!).ToArray();

    public async Task<long> CountAsync(string what) => await Db.SetLengthAsync(Recorder.Key(Prefix, what));

    /// <summary>Runs recorded as <c>key|runId</c>, counted per key.</summary>
    public async Task<Dictionary<string, int>> RunsPerKeyAsync(string what) =>
        (await MembersAsync(what)).GroupBy(m => m[..m.LastIndexOf('|')]).ToDictionary(g => g.Key, g => g.Count());

    public async Task<Dictionary<string, string>> HashAsync(string what) =>
        (await Db.HashGetAllAsync(Recorder.Key(Prefix, what))).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);

    // ---- inspection ----

    /// <summary>
    /// Signatures under the prefix that are Pending/Active and will not expire with the done-TTL: a released
    /// callback is Pending with a TTL ≤ the done-TTL; anything else Pending/Active is stuck. On a partitioned store a
    /// release may still wait in an outbox (a read whose reply a killed connection lost is taken over after the
    /// visibility timeout), so what stays stuck is what is still stuck after <see cref="OutboxSettle"/>.
    /// </summary>
    public async Task<List<string>> StuckSignaturesAsync(TimeSpan doneTtl)
    {
        var until = Stopwatch.StartNew();
        while (true)
        {
            var stuck = await PendingBeyondDoneTtlAsync(doneTtl);
            if (stuck.Count == 0 || Partitions == 1 || until.Elapsed > OutboxSettle) return stuck;
            await Task.Delay(250);
        }
    }

    /// <summary>How long a partitioned store may take to apply a message whose read reply was lost: the workers' visibility timeout, and then some.</summary>
    private static readonly TimeSpan OutboxSettle = TimeSpan.FromSeconds(30);

    private async Task<List<string>> PendingBeyondDoneTtlAsync(TimeSpan doneTtl)
    {
        var stuck = new List<string>();
        // Every partition's signatures, on every master.
        var scans = _inspector!.GetServers().Where(server => !server.IsReplica)
            .SelectMany(server => new[] { $"{{{Prefix}}}:s:*", $"{{{Prefix}#*}}:s:*" }.Select(pattern => server.KeysAsync(pattern: pattern, pageSize: 1000)));
        foreach (var scan in scans)
        {
            await foreach (var key in scan)
            {
                var status = await StoredRecords.FieldAsync(Db, key, "s");
                if (status is not ("0" or "1")) continue;
                var ttl = await Db.KeyTimeToLiveAsync(key);
                if (ttl is null || ttl > doneTtl) stuck.Add($"{key} status={(SignatureStatus)int.Parse(status, System.Globalization.CultureInfo.InvariantCulture)} ttl={ttl?.TotalSeconds:0}s");
            }
        }
        return stuck;
    }

    public async Task<long> KeyCountAsync()
    {
        long count = 0;
        await foreach (var _ in Server.KeysAsync(pattern: $"{{{Prefix}}}:*", pageSize: 1000)) count++;
        return count;
    }

    public async Task<long> StreamLengthAsync(string taskName) => await Db.StreamLengthAsync($"{{{Prefix}}}:q:{taskName}");

    /// <summary>Waits until <paramref name="condition"/> holds; exceptions (Redis down) count as "not yet".</summary>
    public async Task WaitUntilAsync(string what, TimeSpan timeout, Func<Task<bool>> condition, Func<Task<string>>? describe = null)
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    Log($"{what}: reached after {watch.Elapsed.TotalSeconds:0.00} s");
                    return;
                }
                last = null;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or SignatureNotFoundException)
            {
                last = ex;
            }
            if (watch.Elapsed > timeout)
            {
                string state;
                try { state = describe is null ? "" : await describe(); }
                catch (Exception ex) { state = $"(could not describe the state: {ex.Message})"; }
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting until {what}. {state}{(last is null ? "" : $" Last error: {last.GetType().Name}: {last.Message}")}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Never throw from here: an exception would hide the test's own failure.
        foreach (var supervisor in _supervisors)
        {
            try { await supervisor.StopAsync(); }
            catch (Exception ex) { _output.WriteLine($"stopping a supervisor: {ex.Message}"); }
        }
        WorkerProcess[] workers;
        lock (_workers) workers = [.. _workers];
        foreach (var worker in workers)
        {
            try { worker.Dispose(); }
            catch (Exception ex) { _output.WriteLine($"disposing {worker.Name}: {ex.Message}"); }
            var lines = worker.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var tail = lines.Where(l => !l.StartsWith("READY", StringComparison.Ordinal)).TakeLast(6)
                .Select(l => l.Length > 400 ? l[..400] + " …" : l).ToArray();
            if (tail.Length > 0)
                _output.WriteLine($"--- {worker.Name} (pid {worker.Pid}), last lines of {lines.Length}:\n{string.Join('\n', tail)}");
        }
        if (_producer is not null)
        {
            try { await _producer.StopAsync(TimeSpan.FromSeconds(5)); }
            catch (Exception ex) { _output.WriteLine($"producer stop: {ex.Message}"); }
            _producer.Dispose();
        }
        try
        {
            if (_inspector is not null) await _inspector.DisposeAsync();
        }
        catch (Exception ex) { _output.WriteLine($"inspector dispose: {ex.Message}"); }
        if (_server is not null) await _server.DisposeAsync();
        if (_nodes is not null) await _nodes.DisposeAsync();
    }
}
