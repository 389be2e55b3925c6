using MageFlow.Benchmarks.Infrastructure;
using MageFlow.Benchmarks.Measurements;
using MageFlow.Benchmarks.Profiling;
using MageFlow.Benchmarks.Reporting;
using MageFlow.Benchmarks.Workload;

namespace MageFlow.Benchmarks;

/// <summary>
/// Runs every measurement back to back on one Redis (and the cluster row on a local Redis Cluster) and prints one
/// table. Owns the private redis-server and cluster and makes sure they die with the run: normal end, exception,
/// Ctrl+C, or the watchdog.
/// </summary>
internal static class BenchmarkProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        BenchSettings settings;
        try
        {
            settings = BenchSettings.Parse(args);
        }
        catch (HelpRequestedException)
        {
            Console.WriteLine(BenchSettings.Usage);
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        RedisServer? server = null;
        RedisClusterServer? cluster = null;
        var interrupts = 0;
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl+C stops gracefully; a second one kills the server and leaves at once.
            e.Cancel = true;
            if (Interlocked.Increment(ref interrupts) == 1)
            {
                Console.Error.WriteLine("Interrupted: stopping (press Ctrl+C again to quit at once).");
                stop.Cancel();
            }
            else
            {
                server?.Dispose();
                cluster?.Dispose();
                Environment.Exit(130);
            }
        };
        // A hung measurement must never hang CI: past this the process kills its server and exits.
        var overall = (settings.Quick ? TimeSpan.FromSeconds(150) : TimeSpan.FromMinutes(40))
                      + (settings.GeneratorCost ? TimeSpan.FromMinutes(30) : TimeSpan.Zero);
        using var watchdog = new Timer(_ =>
        {
            Console.Error.WriteLine($"Benchmark watchdog: the whole run exceeded {overall.TotalSeconds:0} s; killing redis-server and exiting.");
            server?.Dispose();
            cluster?.Dispose();
            Environment.Exit(3);
        }, null, overall, Timeout.InfiniteTimeSpan);

        try
        {
            BenchReport report;
            if (settings.OnlyGenerator) report = await MeasureGeneratorAsync(settings, stop.Token).ConfigureAwait(false);
            else
            {
                string endpoint;
                string? noCluster = null;
                if (settings.RedisEndpoint is { } given)
                {
                    endpoint = given;
                    noCluster = "--redis names the server to measure, so the benchmark starts no cluster of its own";
                }
                else
                {
                    server = await RedisServer.StartAsync([], stop.Token).ConfigureAwait(false);
                    endpoint = server.Endpoint;
                    if (!settings.OnlyScriptCost && !settings.OnlyEndToEnd && !settings.OnlyLatency) (cluster, noCluster) = await TryStartClusterAsync(stop.Token).ConfigureAwait(false);
                }
                report = await MeasureAsync(settings, endpoint, cluster?.Endpoints, noCluster, stop.Token).ConfigureAwait(false);
            }
            var directory = settings.OutputDirectory ?? Path.Combine(RepositoryRoot(), "bench", "results");
            await ReportWriter.WriteAsync(report, directory).ConfigureAwait(false);
            Console.WriteLine();
            Console.WriteLine(ReportWriter.Markdown(report));
            Console.WriteLine($"Written: {Path.Combine(directory, "latest.md")} and latest.json");
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("Benchmark cancelled.");
            return 130;
        }
        catch (StackExchange.Redis.RedisConnectionException ex)
        {
            Console.Error.WriteLine($"Benchmark failed: cannot reach Redis ({ex.Message}). Without --redis the benchmark starts its own redis-server.");
            return 1;
        }
        catch (MeasurementTimeoutException ex)
        {
            Console.Error.WriteLine($"Benchmark failed: timed out: {ex.Message}.");
            return 1;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"Benchmark failed: {ex}");
            return 1;
        }
        finally
        {
            server?.Dispose();
            cluster?.Dispose();
        }
    }

    /// <summary>The cluster for the cluster row, or why there is none: a cluster that cannot start (no redis-cli, say) costs that row only.</summary>
    private static async Task<(RedisClusterServer? Cluster, string? Absence)> TryStartClusterAsync(CancellationToken cancellationToken)
    {
        Step($"starting a local Redis Cluster ({RedisClusterServer.Masters} masters) for the cluster row");
        try
        {
            return (await RedisClusterServer.StartAsync(cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Console.WriteLine($"  Redis Cluster not started, its row is left out: {ex.Message}");
            return (null, $"the local {RedisClusterServer.Masters}-master Redis Cluster did not start ({ex.Message})");
        }
    }

    /// <summary>The script cost section alone, three times after a warm-up: per phase the run with the fewest µs, the one least disturbed by the machine.</summary>
    private static async Task<IReadOnlyList<ScriptCost.Phase>> LowestScriptCostsAsync(RedisChoice redis, RedisInfo info, int tasks, CancellationToken cancellationToken)
    {
        await ScriptCost.MeasureAsync(redis, info, 500, cancellationToken).ConfigureAwait(false);
        var runs = new List<IReadOnlyList<ScriptCost.Phase>>();
        for (var run = 0; run < 3; run++) runs.Add(await ScriptCost.MeasureAsync(redis, info, tasks, cancellationToken).ConfigureAwait(false));
        return runs[0].Select((_, phase) => runs.Select(r => r[phase]).MinBy(p => p.ScriptMicroseconds)!).ToList();
    }

    /// <param name="clusterEndpoints">The local cluster's nodes, comma-separated; null when there is none, for the reason <paramref name="noCluster"/>.</param>
    private static async Task<BenchReport> MeasureAsync(BenchSettings settings, string endpoint, string? clusterEndpoints, string? noCluster, CancellationToken cancellationToken)
    {
        var report = new BenchReport
        {
            StartedAt = DateTimeOffset.UtcNow,
            Mode = settings.OnlyEndToEnd ? "--only end-to-end" : settings.OnlyLatency ? "--only latency" : settings.Quick ? "--quick" : "default",
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            LoadAverageAtStart = BenchReport.ReadLoadAverage(),
        };
        await using var info = await RedisInfo.ConnectAsync(endpoint).ConfigureAwait(false);
        report.RedisVersion = await info.VersionAsync().ConfigureAwait(false);
        var workload = Workloads.Create(settings.HandRegistered);
        report.Workload = workload.Description;
        var timeout = settings.MeasurementTimeout;
        var inMemory = new InMemoryChoice();
        RedisChoice? redis = new(endpoint, info);
        if (settings.OnlyScriptCost)
        {
            report.ScriptCosts.AddRange(await LowestScriptCostsAsync(redis, info, settings.Quick ? 1_000 : 4_000, cancellationToken).ConfigureAwait(false));
            return report;
        }
        if (settings.OnlyEndToEnd) return await MeasureEndToEndOnlyAsync(report, redis, workload, info, endpoint, settings, cancellationToken).ConfigureAwait(false);
        if (settings.OnlyLatency) return await MeasureLatencyOnlyAsync(report, redis, workload, info, settings, cancellationToken).ConfigureAwait(false);

        await using var clusterInfo = clusterEndpoints is null ? null : await RedisInfo.ConnectAsync(clusterEndpoints).ConfigureAwait(false);
        var clustered = clusterEndpoints is null || clusterInfo is null ? null : new RedisChoice(clusterEndpoints, clusterInfo, "Redis Cluster");
        // The same cluster with the store in two partitions per master: one store's work spread over every master.
        var partitioned = clusterEndpoints is null || clusterInfo is null ? null
            : new RedisChoice(clusterEndpoints, clusterInfo, "Redis Cluster, partitioned", partitions: ReportWriter.ClusterPartitions);

        Step($"warm-up (JIT) on in-memory, Redis backend, swarm, floor{(clustered is null ? "" : " and Redis Cluster")}; redis-server at {endpoint}"
            + (clusterEndpoints is null ? "" : $", cluster nodes at {clusterEndpoints}"));
        await MageFlowEndToEnd.RunAsync(inMemory, workload, 300, null, timeout, cancellationToken).ConfigureAwait(false);
        try
        {
            await MageFlowEndToEnd.RunAsync(redis, workload, 300, null, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (NotSupportedException ex)
        {
            redis = null;
            clustered = null;
            report.Notes.Add($"The Redis backend is not available in this build ({ex.Message}); MageFlow rows are in-memory only and the ratios are not computed.");
            Console.WriteLine("  Redis backend not available in this build: measuring the in-memory backend only.");
        }
        if (redis is not null) await SwarmThroughput.RunAsync(redis, workload, info, 300, timeout, cancellationToken).ConfigureAwait(false);
        // The first run on the cluster also loads the function library on its masters.
        if (clustered is not null)
        {
            await MageFlowEndToEnd.RunAsync(clustered, workload, 300, null, timeout, cancellationToken).ConfigureAwait(false);
            await MageFlowEndToEnd.RunAsync(partitioned!, workload, 300, null, timeout, cancellationToken).ConfigureAwait(false);
        }
        else if (noCluster is not null) report.Notes.Add($"No Redis Cluster row: {noCluster}.");
        await RedisFloor.RunAsync(endpoint, info, 300, timeout, cancellationToken).ConfigureAwait(false);

        // Repetitions interleave the contenders so machine noise hits all of them alike.
        var memoryRates = new List<double>();
        var redisRates = new List<double>();
        var redisRatesWithSigning = new List<double>();
        var redisWorkerStarts = new List<double>();
        var clusterRates = new List<double>();
        var clusterServerCpu = new List<double>();
        var partitionedRates = new List<double>();
        var partitionedServerCpu = new List<double>();
        var swarmRates = new List<double>();
        SwarmSample? lastSwarm = null;
        var floorRates = new List<double>();
        var floorAllocations = new List<double>();
        var floorCpu = new List<double>();
        // Benchmark process CPU (producer + worker, or the floor's client) per task over the timed part.
        var clientCpu = new Dictionary<string, List<double>> { [ReportWriter.MageFlowRedis] = [], [ReportWriter.MageFlowRedisCluster] = [], [ReportWriter.MageFlowRedisClusterPartitioned] = [], [ReportWriter.MageFlowInMemory] = [], [ReportWriter.Floor] = [] };
        var redisDispatchAllocations = new List<double>();
        var memoryAllocations = new List<double>();
        var redisAllocations = new List<double>();
        var memorySigns = new List<double>();
        var redisSigns = new List<double>();
        for (var rep = 1; rep <= settings.Repetitions; rep++)
        {
            var memory = await MageFlowEndToEnd.RunAsync(inMemory, workload, settings.Tasks, null, timeout, cancellationToken).ConfigureAwait(false);
            memoryRates.Add(memory.TasksPerSecond);
            memoryAllocations.Add(memory.AllocatedBytesDuringRun / (double)memory.Tasks);
            memorySigns.Add(memory.SignaturesPerSecond);
            clientCpu[ReportWriter.MageFlowInMemory].Add(memory.ProcessCpuSecondsDuringRun * 1e6 / memory.Tasks);
            report.RuntimeActivity["in-memory"] = memory.Runtime;
            var line = $"rep {rep}/{settings.Repetitions}: in-memory {memory.TasksPerSecond:N0}/s";
            if (redis is not null)
            {
                var sample = await MageFlowEndToEnd.RunAsync(redis, workload, settings.Tasks, null, timeout, cancellationToken).ConfigureAwait(false);
                redisRates.Add(sample.TasksPerSecond);
                redisRatesWithSigning.Add(sample.TasksPerSecondIncludingSigning);
                redisWorkerStarts.Add(sample.WorkerStartSeconds);
                clientCpu[ReportWriter.MageFlowRedis].Add(sample.ProcessCpuSecondsDuringRun * 1e6 / sample.Tasks);
                report.RuntimeActivity["Redis"] = sample.Runtime;
                redisAllocations.Add(sample.AllocatedBytesDuringRun / (double)sample.Tasks);
                redisDispatchAllocations.Add(sample.AllocatedBytesDuringDispatch / (double)sample.Tasks);
                redisSigns.Add(sample.SignaturesPerSecond);
                line += $", Redis {sample.TasksPerSecond:N0}/s (dispatch {sample.DispatchSeconds:0.00} s, worker host start {sample.WorkerStartSeconds:0.00} s, of {sample.TotalSeconds:0.00} s)";
                if (sample.DuplicateCallbacks > 0) report.Notes.Add($"Repetition {rep}: {sample.DuplicateCallbacks} callbacks ran twice.");
                if (clustered is not null)
                {
                    // Counters on: the snapshots fall outside the timed part, and they give the cluster's server CPU.
                    var onCluster = await MageFlowEndToEnd.RunAsync(clustered, workload, settings.Tasks, clusterInfo, timeout, cancellationToken).ConfigureAwait(false);
                    clusterRates.Add(onCluster.TasksPerSecond);
                    clusterServerCpu.Add(onCluster.SignCommands!.Plus(onCluster.RunCommands!).CpuSeconds * 1e6 / onCluster.Tasks);
                    clientCpu[ReportWriter.MageFlowRedisCluster].Add(onCluster.ProcessCpuSecondsDuringRun * 1e6 / onCluster.Tasks);
                    line += $", Redis Cluster {onCluster.TasksPerSecond:N0}/s";
                    if (onCluster.DuplicateCallbacks > 0) report.Notes.Add($"Repetition {rep}, Redis Cluster: {onCluster.DuplicateCallbacks} callbacks ran twice.");
                    var spread = await MageFlowEndToEnd.RunAsync(partitioned!, workload, settings.Tasks, clusterInfo, timeout, cancellationToken).ConfigureAwait(false);
                    partitionedRates.Add(spread.TasksPerSecond);
                    partitionedServerCpu.Add(spread.SignCommands!.Plus(spread.RunCommands!).CpuSeconds * 1e6 / spread.Tasks);
                    clientCpu[ReportWriter.MageFlowRedisClusterPartitioned].Add(spread.ProcessCpuSecondsDuringRun * 1e6 / spread.Tasks);
                    line += $", partitioned {spread.TasksPerSecond:N0}/s";
                    if (spread.DuplicateCallbacks > 0) report.Notes.Add($"Repetition {rep}, Redis Cluster partitioned: {spread.DuplicateCallbacks} callbacks ran twice.");
                }
                lastSwarm = await SwarmThroughput.RunAsync(redis, workload, info, settings.SwarmItems, timeout, cancellationToken).ConfigureAwait(false);
                swarmRates.Add(lastSwarm.ItemsPerSecond);
                line += $", swarm {lastSwarm.ItemsPerSecond:N0} items/s (adding {lastSwarm.AddSeconds:0.00} s, worker host start {lastSwarm.WorkerStartSeconds:0.00} s, of {lastSwarm.TotalSeconds:0.00} s)";
            }
            var (floor, floorAllocated, floorServerCpu, floorClientCpu) = await RedisFloor.RunAsync(endpoint, info, settings.Tasks, timeout, cancellationToken).ConfigureAwait(false);
            floorRates.Add(floor);
            floorAllocations.Add(floorAllocated);
            floorCpu.Add(floorServerCpu);
            clientCpu[ReportWriter.Floor].Add(floorClientCpu);
            Step(line + $", floor {floor:N0}/s");
        }
        var mageWhat = $"sign N callbacks + N tasks (untimed), then timed: dispatch N runs (64 in flight), start one worker host ({ReportWriter.WorkerDefaults}), until the last callback finished";
        if (redis is not null)
        {
            report.Throughput.Add(new ThroughputFigure(ReportWriter.MageFlowRedis, settings.Tasks, Spread.Of(redisRates), mageWhat));
            report.Notes.Add($"The Redis end-to-end time includes starting the worker host (connect, load scripts, register tasks, create groups): median {Spread.Of(redisWorkerStarts).Median * 1000:0} ms per repetition.");
            report.Throughput.Add(new ThroughputFigure(ReportWriter.MageFlowRedisWithSigning, settings.Tasks, Spread.Of(redisRatesWithSigning),
                "the same runs timed from the first signature created (64 AsignAsync in flight) to the last callback: the work Hangfire's Enqueue + ContinueJobWith covers"));
        }
        if (clusterRates.Count > 0)
        {
            report.Throughput.Add(new ThroughputFigure(ReportWriter.MageFlowRedisCluster, settings.Tasks, Spread.Of(clusterRates),
                $"the same runs on a local Redis Cluster of {RedisClusterServer.Masters} masters, no replicas, right after each single-Redis run"));
            report.ClusterServerCpuMicrosecondsPerTask = Spread.Of(clusterServerCpu).Median;
            report.Notes.Add($"The Redis Cluster row: the benchmark starts a local cluster of {RedisClusterServer.Masters} masters without replicas (redis-server --cluster-enabled yes, joined by redis-cli --cluster create) beside its single redis-server. "
                + "With one partition (the default) every key of a store begins with the hash tag {prefix}, so the store is one hash slot on one master: that master does all the work and the other two stay idle. "
                + "That row shows what cluster mode costs (cluster-aware routing in the client, the slot checks in the server), not a scale-out. "
                + "Its redis-server CPU is INFO cpu summed over the nodes, so it includes the idle masters' cluster-bus upkeep.");
        }
        if (partitionedRates.Count > 0)
        {
            report.Throughput.Add(new ThroughputFigure(ReportWriter.MageFlowRedisClusterPartitioned, settings.Tasks, Spread.Of(partitionedRates),
                $"the same runs on the same cluster with RedisBackendOptions.Partitions = {ReportWriter.ClusterPartitions} (two partitions per master), right after the one-partition cluster run"));
            report.PartitionedClusterServerCpuMicrosecondsPerTask = Spread.Of(partitionedServerCpu).Median;
            report.Notes.Add($"The partitioned cluster row: the store split into {ReportWriter.ClusterPartitions} partitions (hash tags whose slots lie two in each master's range). "
                + "Each callback is signed first, into the next partition in turn, and its task is placed beside it, so every pair's work stays in one partition (no outbox hop) and the pairs spread over the three masters. "
                + "Every worker reads each partition on its own blocking connection.");
        }
        if (lastSwarm is not null)
        {
            double items = lastSwarm.Items;
            report.Swarm = new SwarmFigure(lastSwarm.Items, Spread.Of(swarmRates), lastSwarm.SignCommands.ExecutedCommands / items,
                Breakdown("sign + add + run", lastSwarm.SignCommands.Plus(lastSwarm.RunCommands), items), SwarmThroughput.Description);
        }
        report.Throughput.Add(new ThroughputFigure(ReportWriter.MageFlowInMemory, settings.Tasks, Spread.Of(memoryRates), mageWhat + "; producer and worker hosts share one in-memory store"));
        report.Throughput.Add(new ThroughputFigure(ReportWriter.Floor, settings.Tasks, Spread.Of(floorRates), RedisFloor.Description));
        report.AllocatedBytesPerTask["in-memory"] = Spread.Of(memoryAllocations).Median;
        report.AllocatedBytesPerTask["Redis floor (bare StackExchange.Redis loop)"] = Spread.Of(floorAllocations).Median;
        report.FloorServerCpuMicrosecondsPerTask = Spread.Of(floorCpu).Median;
        foreach (var (name, samples) in clientCpu)
            if (samples.Count > 0) report.ClientCpuMicrosecondsPerTask[name] = Spread.Of(samples).Median;
        report.SignaturesPerSecond["in-memory"] = Spread.Of(memorySigns).Median;
        if (redis is not null)
        {
            report.AllocatedBytesPerTask["Redis"] = Spread.Of(redisAllocations).Median;
            report.AllocatedBytesPerTask["Redis, of which producer dispatch"] = Spread.Of(redisDispatchAllocations).Median;
            report.SignaturesPerSecond["Redis"] = Spread.Of(redisSigns).Median;
        }

        if (!settings.SkipHangfire)
        {
            // Hangfire's first jobs in a process pay for its own start-up (expression caching, serializers).
            await HangfireBaseline.RunAsync(endpoint, info, 20, timeout, cancellationToken).ConfigureAwait(false);
            var rates = new List<double>();
            for (var rep = 1; rep <= settings.HangfireRepetitions; rep++)
            {
                var (rate, enqueueSeconds) = await HangfireBaseline.RunAsync(endpoint, info, settings.HangfireTasks, timeout, cancellationToken).ConfigureAwait(false);
                rates.Add(rate);
                Step($"Hangfire rep {rep}/{settings.HangfireRepetitions}: {rate:N0}/s ({settings.HangfireTasks:N0} job + continuation pairs; enqueueing took {enqueueSeconds:0.00} s of {settings.HangfireTasks / rate:0.00} s)");
            }
            report.Throughput.Add(new ThroughputFigure(ReportWriter.Hangfire, settings.HangfireTasks, Spread.Of(rates),
                "BackgroundJob.Enqueue + ContinueJobWith enqueued up front (8 threads), then one BackgroundJobServer (default options, 10 workers), until the last continuation ran; own Redis database; smaller N because it is slow"));
        }

        // Latency at about half the measured capacity of the backend it runs on.
        MageBackendChoice latencyBackend = redis is not null ? redis : inMemory;
        var capacity = redis is not null ? Spread.Of(redisRates).Median : Spread.Of(memoryRates).Median;
        report.LatencyBackend = latencyBackend.Name;
        report.Latency = await CallbackLatency.RunAsync(latencyBackend, workload, capacity / 2, settings.LatencyDuration, timeout, cancellationToken).ConfigureAwait(false);
        Step($"latency ({latencyBackend.Name}) at {capacity / 2:N0}/s: p50 {report.Latency.P50Ms:0.000} ms, p99 {report.Latency.P99Ms:0.000} ms");
        if (redis is not null)
        {
            // Diagnostic: at a tenth of capacity little is batched, so this shows the fixed part of the latency.
            report.LatencyLowLoad = await CallbackLatency.RunAsync(redis, workload, capacity / 10, settings.LatencyDuration, timeout, cancellationToken).ConfigureAwait(false);
            Step($"latency (Redis) at {capacity / 10:N0}/s: p50 {report.LatencyLowLoad.P50Ms:0.000} ms, p99 {report.LatencyLowLoad.P99Ms:0.000} ms");
            await MeasureFloorLatencyAsync(report, redis, info, capacity, settings, cancellationToken).ConfigureAwait(false);
        }
        if (redis is not null)
        {
            // The same on the in-memory backend: what the engine adds without any round trip.
            var memoryCapacity = Spread.Of(memoryRates).Median;
            report.LatencyInMemory = await CallbackLatency.RunAsync(inMemory, workload, memoryCapacity / 2, settings.LatencyDuration, timeout, cancellationToken).ConfigureAwait(false);
            Step($"latency (in-memory) at {memoryCapacity / 2:N0}/s: p50 {report.LatencyInMemory.P50Ms:0.000} ms, p99 {report.LatencyInMemory.P99Ms:0.000} ms");
        }

        // Counted separately from the timed repetitions: the counting wrapper adds a little work of its own.
        await MeasureCommandsAsync(report, redis is not null ? redis : inMemory, workload, info, settings, timeout, cancellationToken).ConfigureAwait(false);

        if (redis is not null)
        {
            report.Memory = await SignatureMemory.RunAsync(redis, workload, info, settings.MemorySignatures, timeout, cancellationToken).ConfigureAwait(false);
            Step($"memory: {report.Memory.BytesPerSignature:N0} B per pending signature over {report.Memory.Signatures:N0}");
        }

        await RunExperimentsAsync(report, redis, inMemory, workload, settings, timeout, cancellationToken).ConfigureAwait(false);

        if (redis is not null)
        {
            report.ScriptCosts.AddRange(await ScriptCost.MeasureAsync(redis, info, settings.Quick ? 1_000 : 4_000, cancellationToken).ConfigureAwait(false));
            Step($"script cost: {string.Join(", ", report.ScriptCosts.Select(p => $"{p.Name} {p.ScriptMicroseconds:0.0} µs"))}");
        }

        report.HotPath.AddRange(HotPathSections.Measure(settings.Quick ? 20_000 : 200_000));
        Step("hot-path sections measured");

        if (settings.GeneratorCost) await MeasureGeneratorCostAsync(report, settings, cancellationToken).ConfigureAwait(false);

        report.LoadAverageAtEnd = BenchReport.ReadLoadAverage();
        report.FinishedAt = DateTimeOffset.UtcNow;
        ReportWriter.BuildTable(report);
        return report;
    }

    /// <summary>
    /// <c>--only end-to-end</c>: the Redis backend's pairs/s against the floor, interleaved, with both sides' CPU and the
    /// allocation per task — the figures a hot-path change moves, in a minute or two.
    /// </summary>
    private static async Task<BenchReport> MeasureEndToEndOnlyAsync(BenchReport report, RedisChoice redis, BenchWorkload workload, RedisInfo info, string endpoint, BenchSettings settings, CancellationToken cancellationToken)
    {
        var timeout = settings.MeasurementTimeout;
        Step($"warm-up (JIT) on the Redis backend and the floor; redis-server at {endpoint}");
        await MageFlowEndToEnd.RunAsync(redis, workload, 300, null, timeout, cancellationToken).ConfigureAwait(false);
        await RedisFloor.RunAsync(endpoint, info, 300, timeout, cancellationToken).ConfigureAwait(false);
        var redisRates = new List<double>();
        var floorRates = new List<double>();
        var mageCpu = new List<double>();
        var mageServerCpu = new List<double>();
        var mageAllocations = new List<double>();
        var floorCpu = new List<double>();
        var floorServerCpu = new List<double>();
        var floorAllocations = new List<double>();
        for (var rep = 1; rep <= settings.Repetitions; rep++)
        {
            var sample = await MageFlowEndToEnd.RunAsync(redis, workload, settings.Tasks, info, timeout, cancellationToken).ConfigureAwait(false);
            redisRates.Add(sample.TasksPerSecond);
            mageCpu.Add(sample.ProcessCpuSecondsDuringRun * 1e6 / sample.Tasks);
            mageServerCpu.Add(sample.RunCommands!.CpuSeconds * 1e6 / sample.Tasks);
            mageAllocations.Add(sample.AllocatedBytesDuringRun / (double)sample.Tasks);
            var (floor, floorAllocated, floorServer, floorClient) = await RedisFloor.RunAsync(endpoint, info, settings.Tasks, timeout, cancellationToken).ConfigureAwait(false);
            floorRates.Add(floor);
            floorCpu.Add(floorClient);
            floorServerCpu.Add(floorServer);
            floorAllocations.Add(floorAllocated);
            Step($"rep {rep}/{settings.Repetitions}: Redis {sample.TasksPerSecond:N0}/s (.NET {mageCpu[^1]:0.0} µs, redis-server {mageServerCpu[^1]:0.0} µs, {mageAllocations[^1]:N0} B per task), "
                 + $"floor {floor:N0}/s (.NET {floorClient:0.0} µs, redis-server {floorServer:0.0} µs, {floorAllocated:N0} B per task): {sample.TasksPerSecond / floor:0.00} ×");
        }
        var mageWhat = $"sign N callbacks + N tasks (untimed), then timed: dispatch N runs (64 in flight), start one worker host ({ReportWriter.WorkerDefaults}), until the last callback finished";
        report.Throughput.Add(new ThroughputFigure(ReportWriter.MageFlowRedis, settings.Tasks, Spread.Of(redisRates), mageWhat));
        report.Throughput.Add(new ThroughputFigure(ReportWriter.Floor, settings.Tasks, Spread.Of(floorRates), RedisFloor.Description));
        report.ClientCpuMicrosecondsPerTask[ReportWriter.MageFlowRedis] = Spread.Of(mageCpu).Median;
        report.ClientCpuMicrosecondsPerTask[ReportWriter.Floor] = Spread.Of(floorCpu).Median;
        report.AllocatedBytesPerTask["Redis"] = Spread.Of(mageAllocations).Median;
        report.AllocatedBytesPerTask["Redis floor (bare StackExchange.Redis loop)"] = Spread.Of(floorAllocations).Median;
        report.FloorServerCpuMicrosecondsPerTask = Spread.Of(floorServerCpu).Median;
        report.Notes.Add($"--only end-to-end: redis-server CPU per task, MageFlow (dispatch + worker, median): {Spread.Of(mageServerCpu).Median:0.0} µs.");
        if (settings.AllocationTypes)
        {
            using var sampler = new AllocationSampler();
            var sampled = await MageFlowEndToEnd.RunAsync(redis, workload, settings.Tasks, null, timeout, cancellationToken, sampler: sampler).ConfigureAwait(false);
            report.AllocatedTypes.AddRange(sampler.Result(sampled.Tasks, top: 30));
            Step($"allocation by type (sampled): {sampled.AllocatedBytesDuringRun / (double)sampled.Tasks:N0} B per task, {report.AllocatedTypes.Count} types listed");
        }
        report.LoadAverageAtEnd = BenchReport.ReadLoadAverage();
        report.FinishedAt = DateTimeOffset.UtcNow;
        ReportWriter.BuildTable(report);
        return report;
    }

    /// <summary>
    /// <c>--only latency</c>: the Redis row's capacity (its median over the repetitions), then finish → callback latency at
    /// half and at a tenth of it, as in the default run — the figures a batching change moves, in about a minute.
    /// </summary>
    /// <summary>The Redis floor's finish → follow-up latency at the same offered loads as MageFlow's (half and a tenth of its capacity).</summary>
    private static async Task MeasureFloorLatencyAsync(BenchReport report, RedisChoice redis, RedisInfo info, double capacity, BenchSettings settings, CancellationToken cancellationToken)
    {
        report.LatencyFloor = await RedisFloorLatency.RunAsync(redis.Endpoint, info, capacity / 2, settings.LatencyDuration, settings.MeasurementTimeout, cancellationToken).ConfigureAwait(false);
        Step($"latency (Redis floor) at {capacity / 2:N0}/s: p50 {report.LatencyFloor.P50Ms:0.000} ms, p99 {report.LatencyFloor.P99Ms:0.000} ms");
        report.LatencyFloorLowLoad = await RedisFloorLatency.RunAsync(redis.Endpoint, info, capacity / 10, settings.LatencyDuration, settings.MeasurementTimeout, cancellationToken).ConfigureAwait(false);
        Step($"latency (Redis floor) at {capacity / 10:N0}/s: p50 {report.LatencyFloorLowLoad.P50Ms:0.000} ms, p99 {report.LatencyFloorLowLoad.P99Ms:0.000} ms");
    }

    private static async Task<BenchReport> MeasureLatencyOnlyAsync(BenchReport report, RedisChoice redis, BenchWorkload workload, RedisInfo info, BenchSettings settings, CancellationToken cancellationToken)
    {
        var timeout = settings.MeasurementTimeout;
        Step("warm-up (JIT) on the Redis backend");
        await MageFlowEndToEnd.RunAsync(redis, workload, 300, null, timeout, cancellationToken).ConfigureAwait(false);
        var rates = new List<double>();
        for (var rep = 1; rep <= settings.Repetitions; rep++)
        {
            var sample = await MageFlowEndToEnd.RunAsync(redis, workload, settings.Tasks, info, timeout, cancellationToken).ConfigureAwait(false);
            rates.Add(sample.TasksPerSecond);
            Step($"rep {rep}/{settings.Repetitions}: Redis {sample.TasksPerSecond:N0}/s");
        }
        var capacity = Spread.Of(rates).Median;
        report.Throughput.Add(new ThroughputFigure(ReportWriter.MageFlowRedis, settings.Tasks, Spread.Of(rates), "as in the default run"));
        report.LatencyBackend = redis.Name;
        report.Latency = await CallbackLatency.RunAsync(redis, workload, capacity / 2, settings.LatencyDuration, timeout, cancellationToken).ConfigureAwait(false);
        Step($"latency (Redis) at {capacity / 2:N0}/s: p50 {report.Latency.P50Ms:0.000} ms, p99 {report.Latency.P99Ms:0.000} ms");
        report.LatencyLowLoad = await CallbackLatency.RunAsync(redis, workload, capacity / 10, settings.LatencyDuration, timeout, cancellationToken).ConfigureAwait(false);
        Step($"latency (Redis) at {capacity / 10:N0}/s: p50 {report.LatencyLowLoad.P50Ms:0.000} ms, p99 {report.LatencyLowLoad.P99Ms:0.000} ms");
        await MeasureFloorLatencyAsync(report, redis, info, capacity, settings, cancellationToken).ConfigureAwait(false);
        report.LoadAverageAtEnd = BenchReport.ReadLoadAverage();
        report.FinishedAt = DateTimeOffset.UtcNow;
        ReportWriter.BuildTable(report);
        return report;
    }

    /// <summary><c>--only generator</c>: the generator cost alone, which needs no Redis.</summary>
    private static async Task<BenchReport> MeasureGeneratorAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        var report = new BenchReport
        {
            StartedAt = DateTimeOffset.UtcNow,
            Mode = "--only generator",
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            LoadAverageAtStart = BenchReport.ReadLoadAverage(),
            RedisVersion = "not used",
            Workload = "a synthetic library of 500 [MageTask] methods",
        };
        await MeasureGeneratorCostAsync(report, settings, cancellationToken).ConfigureAwait(false);
        report.LoadAverageAtEnd = BenchReport.ReadLoadAverage();
        report.FinishedAt = DateTimeOffset.UtcNow;
        ReportWriter.BuildTable(report);
        return report;
    }

    private static async Task MeasureGeneratorCostAsync(BenchReport report, BenchSettings settings, CancellationToken cancellationToken)
    {
        // Builds of 500 tasks take tens of seconds on a busy 2-core machine: their own, longer limit.
        report.Generator = await GeneratorCost.MeasureAsync(RepositoryRoot(), settings.Quick ? 1 : 3, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        Step($"generator: {report.Generator.WithGeneratorSeconds.Median:0.00} s with vs {report.Generator.WithoutGeneratorSeconds.Median:0.00} s without = {report.Generator.Ratio:0.00} ×");
    }

    private static async Task MeasureCommandsAsync(BenchReport report, MageBackendChoice backend, BenchWorkload workload, RedisInfo info, BenchSettings settings, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var counters = new BackendCounters();
        var sample = await MageFlowEndToEnd.RunAsync(backend, workload, settings.Tasks, backend.IsRedis ? info : null, timeout, cancellationToken,
            (inner, owns) => new CountingBackend(inner, owns, counters)).ConfigureAwait(false);
        double n = sample.Tasks;
        // Start-up work (definitions, queues) is per host, not per task.
        var perHost = new HashSet<string> { "register definitions", "prepare queues" };
        foreach (var (operation, tally) in counters.Operations.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (perHost.Contains(operation)) continue;
            report.BackendOperations.Add(new OperationFigure(operation, tally.Calls / n, tally.TotalMilliseconds / Math.Max(1, tally.Calls),
                tally.Items > 0 ? tally.Items / (double)tally.Calls : 0));
        }
        foreach (var (gap, tally) in counters.Gaps.OrderBy(t => t.Key, StringComparer.Ordinal))
            report.WorkerGaps.Add(new OperationFigure(gap, tally.Calls / n, tally.TotalMilliseconds / Math.Max(1, tally.Calls), 0));
        // Little's law: runs in flight = runs per second × time a run holds its slot (read handed out → complete returned).
        var slotMilliseconds = report.WorkerGaps.Sum(g => g.MeanMilliseconds)
            + report.BackendOperations.Where(o => o.Operation is "start" or "complete").Sum(o => o.MeanMilliseconds);
        var workerSeconds = sample.TotalSeconds - sample.DispatchSeconds - sample.WorkerStartSeconds;
        report.MeanRunsInFlight = 2 * n / workerSeconds * slotMilliseconds / 1000;
        report.WorkerConcurrency = new MageWorkerOptions().Concurrency;
        report.Notes.Add($"Backend operations were counted on the {backend.Name} backend with a counting wrapper around IMageBackend (runtime changes for measurement: InternalsVisibleTo MageFlow.Benchmarks and the internal RedisBackend.CommandsSent counter); per-host start-up operations are left out.");
        if (sample.SignCommands is { } sign && sample.RunCommands is { } run)
        {
            var whole = sign.Plus(run);
            report.Commands.Add(Breakdown("sign (2 signatures)", sign, n));
            report.Commands.Add(Breakdown("dispatch + worker", run, n));
            report.Commands.Add(Breakdown("whole task life", whole, n));
            report.ClientCommandsPerTask = counters.CommandsSent / n;
            // Each request sent is one request/response; transitions the backend coalesces share one, and reads
            // served from its read-ahead buffer need none. So the client's own counter is the round-trip count.
            report.RoundTripsPerTask = report.ClientCommandsPerTask;
        }
        Step($"commands: {report.BackendOperations.Sum(o => o.CallsPerTask):0.00} backend operations per task");
    }

    /// <summary>Where the worker's ceiling comes from: the same run with fewer or more runs in flight.</summary>
    private static async Task RunExperimentsAsync(BenchReport report, RedisChoice? redis, InMemoryChoice inMemory, BenchWorkload workload, BenchSettings settings, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var runs = new List<(MageBackendChoice Backend, int Concurrency)>();
        if (redis is not null) runs.AddRange([(redis, 8), (redis, 32), (redis, 512)]);
        runs.Add((inMemory, 8));
        foreach (var (backend, concurrency) in runs)
        {
            var sample = await MageFlowEndToEnd.RunAsync(backend, workload, settings.Tasks, null, timeout, cancellationToken,
                configureWorker: o => o.Concurrency = concurrency).ConfigureAwait(false);
            report.Experiments.Add(new Experiment($"{backend.Name}, worker Concurrency = {concurrency} (default {new MageWorkerOptions().Concurrency})",
                sample.TasksPerSecond, sample.AllocatedBytesDuringRun / (double)sample.Tasks, $"N = {sample.Tasks:N0}; otherwise as the end-to-end row"));
            Step($"experiment {report.Experiments[^1].Name}: {sample.TasksPerSecond:N0}/s (worker host start {sample.WorkerStartSeconds:0.00} s of {sample.TotalSeconds:0.00} s)");
        }
    }

    private static CommandBreakdown Breakdown(string phase, CommandDelta delta, double tasks) => new(
        phase,
        delta.ScriptCalls / tasks,
        delta.ExecutedCommands / tasks,
        delta.CpuSeconds * 1e6 / tasks,
        delta.ScriptMicroseconds / tasks,
        delta.Workload
            .OrderByDescending(p => p.Value.Calls)
            .Select(p => new CommandFigure(p.Key, p.Value.Calls / tasks, p.Value.Microseconds / tasks))
            .ToArray());

    private static void Step(string message) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}");

    /// <summary>The folder holding MageFlow.sln, found upwards from the working directory or the binary.</summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "MageFlow.sln"))) return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
