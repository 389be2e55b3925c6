using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MageFlow.Benchmarks.Infrastructure;

namespace MageFlow.Benchmarks.Reporting;

/// <summary>Turns the measurements into the table (with targets from docs/performance design) and writes it out.</summary>
internal static class ReportWriter
{
    public const string MageFlowRedis = "MageFlow, Redis backend";
    public const string MageFlowRedisWithSigning = "MageFlow, Redis backend, incl. signing";
    public const string MageFlowRedisCluster = "MageFlow (Redis Cluster, 3 masters)";
    public const int ClusterPartitions = 6;
    public const string MageFlowRedisClusterPartitioned = "MageFlow (Redis Cluster, 3 masters, 6 partitions)";
    public const string MageFlowInMemory = "MageFlow, in-memory backend";
    public const string Floor = "Redis floor";
    public const string Hangfire = "Hangfire 1.8.25 + Hangfire.Redis.StackExchange 1.12.0";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void BuildTable(BenchReport report)
    {
        var rows = report.Table;
        rows.Clear();
        var redis = report.Throughput.FirstOrDefault(t => t.Name == MageFlowRedis);
        var redisWithSigning = report.Throughput.FirstOrDefault(t => t.Name == MageFlowRedisWithSigning);
        var cluster = report.Throughput.FirstOrDefault(t => t.Name == MageFlowRedisCluster);
        var partitioned = report.Throughput.FirstOrDefault(t => t.Name == MageFlowRedisClusterPartitioned);
        var memory = report.Throughput.FirstOrDefault(t => t.Name == MageFlowInMemory);
        var floor = report.Throughput.FirstOrDefault(t => t.Name == Floor);
        var hangfire = report.Throughput.FirstOrDefault(t => t.Name == Hangfire);

        // A run that measured no throughput at all (--only generator) has no end-to-end row to show.
        if (report.Throughput.Count > 0)
            rows.Add(redis is null
                ? new TableRow("End-to-end tasks/s, " + MageFlowRedis, "not measured", "", "≥ 30,000/s", "n/a", "Redis backend not available in this build")
                : Rate(redis, "≥ 30,000/s", redis.Rate.Median >= 30_000));
        var life = report.Commands.FirstOrDefault(c => c.Phase == "whole task life");
        if (report.Swarm is { } swarm && redis is not null)
        {
            var ratio = swarm.Rate.Median / redis.Rate.Median;
            var perItem = swarm.ItemLife.ExecutedPerTask;
            var plainPair = life is null ? "" : $"; a plain task + callback pair: {life.ExecutedPerTask:0.00} ({life.ExecutedPerTask / 2:0.00} per run)";
            rows.Add(new TableRow($"Swarm items/s, {MageFlowRedis}", $"{swarm.Rate.Median:N0}/s; {perItem:0.00} Redis commands executed per item",
                $"{ratio:0.00} × the plain pairs/s ({redis.Rate.Median:N0}/s, row above); {Runs(swarm.Rate)}; commands executed per item: signing {swarm.SignExecutedPerItem:0.00} + adding and running {perItem - swarm.SignExecutedPerItem:0.00}, script calls {swarm.ItemLife.ScriptCallsPerTask:0.00}{plainPair}",
                "≥ 0.5 × the plain task rate", Status(ratio >= 0.5),
                $"N = {swarm.Items:N0}; {swarm.What}. Commands: INFO commandstats delta ÷ N over signing, adding and running (includes the commands inside scripts), last repetition"));
        }
        if (cluster is not null && redis is not null && floor is not null)
        {
            var singleCpu = life is null ? "" : $" (single Redis: {life.ServerCpuMicrosecondsPerTask:0.0} µs, counting run)";
            rows.Add(new TableRow($"End-to-end pairs/s, {MageFlowRedisCluster}",
                $"{cluster.Rate.Median:N0}/s; {cluster.Rate.Median / floor.Rate.Median:0.00} × the Redis floor",
                $"{Runs(cluster.Rate)}; ÷ floor {cluster.Rate.Min / floor.Rate.Max:0.00}–{cluster.Rate.Max / floor.Rate.Min:0.00}; {cluster.Rate.Median / redis.Rate.Median:0.00} × the single-Redis pairs/s ({redis.Rate.Median:N0}/s); redis-server CPU {report.ClusterServerCpuMicrosecondsPerTask ?? double.NaN:0.0} µs per task summed over the nodes{singleCpu}",
                "— (info: the cost of cluster mode; a store of one partition is one slot on one master, not a scale-out)", "—",
                $"N = {cluster.ItemsPerRepetition:N0}; {cluster.What}. Floor ratio: medians of per-second rates against the single-server floor of the same repetitions. Server CPU: INFO cpu delta over sign + run, summed over the nodes, ÷ N, median"));
        }
        if (partitioned is not null && cluster is not null && redis is not null && floor is not null)
        {
            rows.Add(new TableRow($"End-to-end pairs/s, {MageFlowRedisClusterPartitioned}",
                $"{partitioned.Rate.Median:N0}/s; {partitioned.Rate.Median / floor.Rate.Median:0.00} × the Redis floor",
                $"{Runs(partitioned.Rate)}; {partitioned.Rate.Median / cluster.Rate.Median:0.00} × the one-partition cluster ({cluster.Rate.Median:N0}/s), {partitioned.Rate.Median / redis.Rate.Median:0.00} × the single Redis; redis-server CPU {report.PartitionedClusterServerCpuMicrosecondsPerTask ?? double.NaN:0.0} µs per task summed over the nodes",
                "— (info: one store spread over every master)", "—",
                $"N = {partitioned.ItemsPerRepetition:N0}; {partitioned.What}. Same method as the row above"));
        }
        if (redisWithSigning is not null) rows.Add(Rate(redisWithSigning, "— (basis of the Hangfire ratio)", null));
        if (memory is not null) rows.Add(Rate(memory, "— (no target; shows the engine's own ceiling)", null));
        if (floor is not null) rows.Add(Rate(floor, "— (reference)", null));
        if (hangfire is not null) rows.Add(Rate(hangfire, "— (reference; ≈136/s measured before)", null));

        if (redis is not null && floor is not null)
        {
            var ratio = redis.Rate.Median / floor.Rate.Median;
            rows.Add(new TableRow("Ratio MageFlow (Redis) ÷ Redis floor", $"{ratio:0.00} ×", $"{redis.Rate.Min / floor.Rate.Max:0.00}–{redis.Rate.Max / floor.Rate.Min:0.00}",
                "≥ 0.5 ×", Status(ratio >= 0.5), "medians of per-second rates; spread = worst/best pairing"));
        }
        if (redisWithSigning is not null && hangfire is not null)
        {
            // Hangfire's Enqueue creates and queues the job: compare it with signing + dispatching, not dispatching alone.
            var ratio = redisWithSigning.Rate.Median / hangfire.Rate.Median;
            var dispatchOnly = redis!.Rate.Median / hangfire.Rate.Median;
            rows.Add(new TableRow("Ratio MageFlow (Redis, incl. signing) ÷ Hangfire", $"{ratio:0} ×",
                $"{redisWithSigning.Rate.Min / hangfire.Rate.Max:0}–{redisWithSigning.Rate.Max / hangfire.Rate.Min:0}; {dispatchOnly:0} × without signing",
                "≥ 100 ×", Status(ratio >= 100), $"per-second rates; Hangfire ran {hangfire.ItemsPerRepetition:N0} pairs, MageFlow {redisWithSigning.ItemsPerRepetition:N0}"));
        }

        if (report.Latency is { } latency)
        {
            var met = latency.P50Ms <= 0.5 && latency.P99Ms <= 2;
            rows.Add(new TableRow($"Finish → callback start, {report.LatencyBackend}",
                $"p50 {latency.P50Ms:0.000} / p90 {latency.P90Ms:0.000} / p99 {latency.P99Ms:0.000} / max {latency.MaxMs:0.0} ms",
                $"{latency.Samples:N0} pairs at {latency.AchievedRate:N0}/s (≈50% of measured rate)",
                "p50 ≤ 0.5 ms, p99 ≤ 2 ms", Status(met),
                "HDR histogram of callback handler start − task handler end (Stopwatch timestamps)"));
        }

        if (report.LatencyFloor is { } floorLatency)
        {
            var against = report.Latency is { } mage ? $"; MageFlow's p50 is {mage.P50Ms / floorLatency.P50Ms:0.0} × this, its p99 {mage.P99Ms / floorLatency.P99Ms:0.0} ×" : "";
            rows.Add(new TableRow("Finish → follow-up read, Redis floor",
                $"p50 {floorLatency.P50Ms:0.000} / p90 {floorLatency.P90Ms:0.000} / p99 {floorLatency.P99Ms:0.000} / max {floorLatency.MaxMs:0.0} ms",
                $"{floorLatency.Samples:N0} items at {floorLatency.AchievedRate:N0}/s (MageFlow's offered load above){against}",
                "— (reference: what this Redis and client allow)", "—",
                "bare StackExchange.Redis on the same server: a consumer blocked in XREADGROUP takes each item, notes the time, XACK + XADD of a follow-up carrying it (pipelined); its read of the follow-up gives the sample. One write and one delivery, no state, no start step"));
        }

        if (report.LatencyInMemory is { } engine)
        {
            rows.Add(new TableRow("Finish → callback start, in-memory",
                $"p50 {engine.P50Ms:0.000} / p90 {engine.P90Ms:0.000} / p99 {engine.P99Ms:0.000} / max {engine.MaxMs:0.0} ms",
                $"{engine.Samples:N0} pairs at {engine.AchievedRate:N0}/s (≈50% of its measured rate)",
                "— (info: the engine without round trips)", "—", "as above, on the in-memory backend"));
        }

        if (report.ClientCommandsPerTask is { } sent && life is not null)
        {
            // The design measures commands with INFO commandstats, which (Redis 7) counts what scripts run too.
            rows.Add(new TableRow("Redis commands per task", $"{life.ExecutedPerTask:0.00} executed",
                $"{life.ExecutedPerTask / 2:0.00} per run (task or callback); {sent:0.00} sent by the clients, {life.ScriptCallsPerTask:0.00} of them script calls",
                "≤ 6", Status(life.ExecutedPerTask <= 6),
                "task = sign task + callback, run both. Executed: INFO commandstats delta ÷ N (includes the commands inside scripts); sent: StackExchange.Redis operation counters of every MageFlow connection ÷ N"));
            rows.Add(new TableRow("Redis server CPU per task", $"{life.ServerCpuMicrosecondsPerTask:0.0} µs", $"of which executing scripts {life.ScriptMicrosecondsPerTask:0.0} µs; the floor loop: {report.FloorServerCpuMicrosecondsPerTask ?? double.NaN:0.0} µs per item",
                "— (info)", "—", "INFO cpu used_cpu_user + used_cpu_sys delta ÷ N (the whole server process); scripts: commandstats fcall usec (the library functions)"));
        }
        if (report.RoundTripsPerTask is { } trips && life is not null)
        {
            double Calls(string command) => life.ByCommand.FirstOrDefault(c => c.Command == command)?.CallsPerTask ?? 0;
            var scripts = life.ScriptCallsPerTask;
            var reads = Calls("xreadgroup");
            var operations = report.BackendOperations.Where(o => o.Operation is "read and start" or "start" or "complete").Sum(o => o.CallsPerTask);
            rows.Add(new TableRow("Redis round trips per task (client)", $"{trips:0.00}",
                $"{trips / 2:0.00} per run; script calls {scripts:0.00} (for {operations:0.00} read-and-start, start and complete operations), XREADGROUP {reads:0.00}, other {Math.Max(0, trips - scripts - reads):0.00} (signing SET, dispatch XADD, set-up)",
                "≤ 1.2", Status(trips <= 1.2),
                "requests sent = StackExchange.Redis operation counters ÷ N (signing is one SET per signature); coalesced transitions share a request, reads served from the read-ahead buffer need none; concurrent requests also share socket writes (pipelining)"));
        }

        if (report.Memory is { } mem)
        {
            rows.Add(new TableRow("Memory per stored pending signature", $"{mem.BytesPerSignature:N0} B", $"{mem.Signatures:N0} signatures, Δ used_memory {mem.UsedMemoryDelta:N0} B",
                "≤ 400 B", Status(mem.BytesPerSignature <= 400), "INFO memory used_memory delta ÷ count; half tasks (1 kwarg + 1 callback), half callbacks (1 kwarg)"));
        }

        if (report.ClientCpuMicrosecondsPerTask.Count > 0)
        {
            rows.Add(new TableRow(".NET process CPU per task", string.Join(" / ", report.ClientCpuMicrosecondsPerTask.Select(p => $"{p.Value:0.0} µs")),
                string.Join(" / ", report.ClientCpuMicrosecondsPerTask.Keys), "— (info)", "—",
                "Environment.CpuUsage delta (all threads: producer dispatch + worker) over the timed part ÷ N, median; with the Redis server CPU above this is the 2-core budget"));
        }
        foreach (var (backend, bytes) in report.AllocatedBytesPerTask)
            rows.Add(new TableRow($"Managed allocation per task, {backend}", $"{bytes:N0} B", "whole process over the timed part (dispatch + worker)", "— (info)", "—", "GC.GetTotalAllocatedBytes(precise) delta ÷ N"));

        if (report.Generator is { } gen)
        {
            rows.Add(new TableRow($"Generator: build of {gen.Tasks} [MageTask]s, with ÷ without", $"{gen.Ratio:0.00} ×; {gen.LinesPerTask:0.0} generated lines per task",
                $"{gen.WithGeneratorSeconds.Median:0.00} s vs {gen.WithoutGeneratorSeconds.Median:0.00} s (median of {gen.WithGeneratorSeconds.Samples.Count}); the generator's own time {gen.GeneratorSeconds}",
                "≤ 1.5 ×, ≤ 30 lines per task", Status(gen.Ratio <= 1.5 && gen.LinesPerTask <= 30), "dotnet build --no-restore wall time after a warm-up build; own time from -p:ReportAnalyzer=true"));
        }
    }

    private static TableRow Rate(ThroughputFigure figure, string target, bool? met) => new(
        $"End-to-end pairs/s, {figure.Name}",
        $"{figure.Rate.Median:N0}/s",
        Runs(figure.Rate),
        target,
        met is null ? "—" : Status(met.Value),
        $"N = {figure.ItemsPerRepetition:N0}; {figure.What}");

    private static string Runs(Spread rate) => rate.Samples.Count > 1 ? $"{rate.Min:N0}–{rate.Max:N0} over {rate.Samples.Count} runs" : "1 run";

    /// <summary>The worker defaults the end-to-end rows run with, as this build has them.</summary>
    public static string WorkerDefaults
    {
        get
        {
            var defaults = new MageWorkerOptions();
            return $"defaults: concurrency {defaults.Concurrency}, batch {defaults.BatchSize}";
        }
    }

    private static string Status(bool met) => met ? "met" : "NOT met";

    public static string Markdown(BenchReport report)
    {
        var md = new StringBuilder();
        md.AppendLine(Invariant, $"## MageFlow benchmark — {report.Mode} run");
        md.AppendLine();
        md.AppendLine(Invariant, $"{report.StartedAt:yyyy-MM-dd HH:mm} UTC, {report.Machine}, Redis {report.RedisVersion}; load average at start `{report.LoadAverageAtStart}`, at end `{report.LoadAverageAtEnd}`. Workload: {report.Workload}.");
        md.AppendLine();
        AppendTable(md, ["figure", "value", "spread / detail", "target", "status", "how"],
            report.Table.Select(row => new[] { row.Figure, row.Value, row.Spread, row.Target, row.Status, row.How }));

        foreach (var breakdown in report.Commands)
            AppendBreakdown(md, $"Redis commands per task — {breakdown.Phase}", breakdown, "task");
        if (report.Swarm is { } swarmRun)
            AppendBreakdown(md, $"Redis commands per swarm item — {swarmRun.ItemLife.Phase} (last repetition, N = {swarmRun.Items:N0})", swarmRun.ItemLife, "item");

        if (report.BackendOperations.Count > 0)
        {
            AppendHeading(md, "Backend operations per task (client side; the Redis backend coalesces concurrent start/complete operations into shared requests)");
            AppendTable(md, ["operation", "calls per task", "mean wall ms per call", "entries per call"],
                report.BackendOperations.Select(op => new[]
                {
                    op.Operation, op.CallsPerTask.ToString("0.000", Invariant), op.MeanMilliseconds.ToString("0.000", Invariant),
                    op.ItemsPerCall > 0 ? op.ItemsPerCall.ToString("0.0", Invariant) : "",
                }));
        }

        if (report.WorkerGaps.Count > 0)
        {
            AppendHeading(md, "A run's life in the worker (counting run; mean per run)");
            var calls = new[] { "read and start", "read", "start", "complete" }
                .Select(name => report.BackendOperations.FirstOrDefault(o => o.Operation == name))
                .OfType<OperationFigure>()
                .Select(op => new[] { $"backend {op.Operation} (call → return)", op.MeanMilliseconds.ToString("0.000", Invariant) });
            AppendTable(md, ["step", "mean ms"],
                calls.Concat(report.WorkerGaps.Select(gap => new[] { gap.Operation, gap.MeanMilliseconds.ToString("0.000", Invariant) })));
            if (report.MeanRunsInFlight is { } inFlight)
            {
                md.AppendLine(Invariant, $"Runs in flight on average (Little's law: runs/s × the time above from read to complete): {inFlight:0.0} of {report.WorkerConcurrency} slots (a slot not holding a run waits for the single read loop to hand it an entry).");
                md.AppendLine();
            }
        }

        if (report.RuntimeActivity.Count > 0)
        {
            AppendHeading(md, string.Create(Invariant, $".NET runtime activity over the timed part (last repetition, N = {report.Throughput.FirstOrDefault()?.ItemsPerRepetition:N0})"));
            var tasks = (double)(report.Throughput.FirstOrDefault()?.ItemsPerRepetition ?? 1);
            AppendTable(md, ["backend", "gen0 / gen1 / gen2 GCs", "GC pause ms", "thread-pool work items per task", "lock contentions per task"],
                report.RuntimeActivity.Select(pair => new[]
                {
                    pair.Key, $"{pair.Value.Gen0} / {pair.Value.Gen1} / {pair.Value.Gen2}", pair.Value.GcPauseMilliseconds.ToString("0.0", Invariant),
                    (pair.Value.ThreadPoolWorkItems / tasks).ToString("0.0", Invariant), (pair.Value.LockContentions / tasks).ToString("0.00", Invariant),
                }));
        }

        if (report.LatencyLowLoad is { } low)
        {
            md.AppendLine(Invariant, $"Diagnostic: finish → callback start on Redis at {low.AchievedRate:N0}/s (≈10% of capacity): p50 {low.P50Ms:0.000} / p90 {low.P90Ms:0.000} / p99 {low.P99Ms:0.000} / max {low.MaxMs:0.0} ms over {low.Samples:N0} pairs.");
            if (report.LatencyFloorLowLoad is { } floorLow)
                md.AppendLine(Invariant, $"The Redis floor at the same load: p50 {floorLow.P50Ms:0.000} / p90 {floorLow.P90Ms:0.000} / p99 {floorLow.P99Ms:0.000} / max {floorLow.MaxMs:0.0} ms over {floorLow.Samples:N0} items.");
            md.AppendLine();
        }

        if (report.Experiments.Count > 0)
        {
            AppendHeading(md, "Diagnostic runs (one knob changed; one run each)");
            AppendTable(md, ["run", "pairs/s", "allocated B per pair", "note"],
                report.Experiments.Select(experiment => new[]
                {
                    experiment.Name, experiment.PairsPerSecond.ToString("N0", Invariant), experiment.AllocatedBytesPerTask.ToString("N0", Invariant), experiment.Note,
                }));
        }

        if (report.Generator is { } generator)
        {
            md.AppendLine("### Generator cost");
            md.AppendLine();
            md.AppendLine(Invariant, $"{generator.Tasks} [MageTask] methods: with generator {string.Join(", ", generator.WithGeneratorSeconds.Samples.Select(x => x.ToString("0.00", Invariant)))} s; without {string.Join(", ", generator.WithoutGeneratorSeconds.Samples.Select(x => x.ToString("0.00", Invariant)))} s. {generator.Note}");
            md.AppendLine();
        }

        if (report.ScriptCosts.Count > 0)
        {
            AppendHeading(md, "Script cost per transition (redis-server µs; transitions issued together, as a worker's coalesce)");
            // A transition made of plain commands (signing: one SET) has no script time to split.
            AppendTable(md, ["transition", "operations", "script calls", "µs inside scripts per operation", "of which commands", "Lua's own share"],
                report.ScriptCosts.Select(phase => new[]
                {
                    phase.Name, phase.Operations.ToString("N0", Invariant), phase.ScriptCalls.ToString("N0", Invariant),
                    phase.ScriptCalls == 0 ? "— (plain commands)" : phase.ScriptMicroseconds.ToString("0.0", Invariant),
                    phase.CommandMicroseconds.ToString("0.0", Invariant),
                    phase.ScriptCalls == 0 ? "—" : (phase.ScriptMicroseconds - phase.CommandMicroseconds).ToString("0.0", Invariant),
                }));
        }

        if (report.HotPath.Count > 0)
        {
            AppendHeading(md, "Hot-path CPU sections (one thread, in isolation)");
            AppendTable(md, ["section", "ns per call", "bytes allocated per call"],
                report.HotPath.Select(section => new[] { section.Section, section.NanosecondsPerCall.ToString("N0", Invariant), section.BytesPerCall.ToString("N0", Invariant) }));
        }

        if (report.Memory is { SampleKeys.Count: > 0 } memory)
        {
            AppendHeading(md, "Sample stored keys (MEMORY USAGE)");
            AppendTable(md, ["key", "type (encoding)", "bytes"],
                memory.SampleKeys.Select(key => new[] { $"`{key.Key}`", key.Type, key.Bytes.ToString("N0", Invariant) }));
        }

        if (report.SignaturesPerSecond.Count > 0)
        {
            AppendHeading(md, "Signing rate (not in the end-to-end figure)");
            foreach (var (backend, rate) in report.SignaturesPerSecond)
                md.AppendLine(Invariant, $"- {backend}: {rate:N0} signatures/s (64 concurrent AsignAsync calls)");
            md.AppendLine();
        }

        if (report.AllocatedTypes.Count > 0)
        {
            AppendHeading(md, "Managed allocation by type (Redis, one more repetition, sampled)");
            md.AppendLine("GCAllocationTick events (one per ~100 KB allocated, naming the type that crossed the mark) over the timed part ÷ N: estimates.");
            md.AppendLine();
            AppendTable(md, ["type", "B per task", "share"],
                report.AllocatedTypes.Select(type => new[] { $"`{type.TypeName}`", type.BytesPerTask.ToString("N0", Invariant), type.Share.ToString("P1", Invariant) }));
        }

        if (report.Notes.Count > 0)
        {
            AppendHeading(md, "Notes");
            foreach (var note in report.Notes) md.AppendLine(Invariant, $"- {note}");
        }
        return md.ToString();
    }

    /// <param name="unit">What the figures are divided by: "task" (a task + callback pair) or "item" (a swarm item).</param>
    private static void AppendBreakdown(StringBuilder md, string heading, CommandBreakdown breakdown, string unit)
    {
        AppendHeading(md, heading);
        md.AppendLine(Invariant, $"script calls {breakdown.ScriptCallsPerTask:0.00}, commands executed {breakdown.ExecutedPerTask:0.00} (incl. inside scripts), redis-server CPU {breakdown.ServerCpuMicrosecondsPerTask:0.0} µs per {unit}, of which executing scripts {breakdown.ScriptMicrosecondsPerTask:0.0} µs. A script's µs include the commands it ran, which are listed again on their own rows.");
        md.AppendLine();
        var rows = breakdown.ByCommand.Where(c => c.CallsPerTask >= 0.01)
            .Select(command => new[] { command.Command, command.CallsPerTask.ToString("0.000", Invariant), command.MicrosecondsPerTask.ToString("0.00", Invariant) })
            .ToList();
        var rest = breakdown.ByCommand.Where(c => c.CallsPerTask < 0.01).ToArray();
        if (rest.Length > 0)
            rows.Add([$"others (connection set-up, polling: {string.Join(", ", rest.Select(c => c.Command))})",
                rest.Sum(c => c.CallsPerTask).ToString("0.000", Invariant), rest.Sum(c => c.MicrosecondsPerTask).ToString("0.00", Invariant)]);
        AppendTable(md, ["command", $"calls per {unit}", $"server µs per {unit}"], rows);
    }

    private static void AppendHeading(StringBuilder md, string heading)
    {
        md.AppendLine(Invariant, $"### {heading}");
        md.AppendLine();
    }

    /// <summary>A Markdown table of <paramref name="rows"/> under <paramref name="columns"/>, every cell escaped, and a blank line.</summary>
    private static void AppendTable(StringBuilder md, string[] columns, IEnumerable<string[]> rows)
    {
        md.Append("| ").AppendJoin(" | ", columns.Select(Cell)).AppendLine(" |");
        md.Append('|').Append(string.Concat(Enumerable.Repeat("---|", columns.Length))).AppendLine();
        foreach (var row in rows) md.Append("| ").AppendJoin(" | ", row.Select(Cell)).AppendLine(" |");
        md.AppendLine();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    public static async Task WriteAsync(BenchReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        var options = new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        await File.WriteAllTextAsync(Path.Combine(directory, "latest.json"), JsonSerializer.Serialize(report, options)).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, "latest.md"), Markdown(report)).ConfigureAwait(false);
    }
}
