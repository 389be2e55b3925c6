using MageFlow.Benchmarks.Infrastructure;
using MageFlow.Benchmarks.Measurements;
using MageFlow.Benchmarks.Profiling;

namespace MageFlow.Benchmarks.Reporting;

/// <summary>A throughput figure: pairs per second over repetitions.</summary>
internal sealed record ThroughputFigure(string Name, int ItemsPerRepetition, Spread Rate, string What);

/// <summary>Backend operations (each a Redis round trip) per task + callback pair, from the counting wrapper.</summary>
internal sealed record OperationFigure(string Operation, double CallsPerTask, double MeanMilliseconds, double ItemsPerCall);

internal sealed record CommandFigure(string Command, double CallsPerTask, double MicrosecondsPerTask);

internal sealed record CommandBreakdown(
    string Phase,
    double ScriptCallsPerTask,
    double ExecutedPerTask,
    double ServerCpuMicrosecondsPerTask,
    double ScriptMicrosecondsPerTask,
    IReadOnlyList<CommandFigure> ByCommand);

/// <summary>
/// The swarm row: items per second through one swarm over repetitions, and the Redis commands executed per item in
/// the last repetition (<paramref name="ItemLife"/>'s "per task" members are per item here).
/// </summary>
internal sealed record SwarmFigure(int Items, Spread Rate, double SignExecutedPerItem, CommandBreakdown ItemLife, string What);

/// <summary>Build time with ÷ without the generator, generated lines per task, and the generator's own time as the compiler reports it ("?" when absent).</summary>
internal sealed record GeneratorFigure(int Tasks, Spread WithoutGeneratorSeconds, Spread WithGeneratorSeconds, double Ratio, double LinesPerTask, string GeneratorSeconds, string? Note);

internal sealed record Experiment(string Name, double PairsPerSecond, double AllocatedBytesPerTask, string Note);

/// <summary>Everything one run measured; written as JSON and rendered as the table.</summary>
internal sealed class BenchReport
{
    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset FinishedAt { get; set; }

    public required string Mode { get; init; }

    public required string Machine { get; init; }

    public string LoadAverageAtStart { get; init; } = "";

    public string LoadAverageAtEnd { get; set; } = "";

    public string RedisVersion { get; set; } = "";

    public string Workload { get; set; } = "";

    public List<ThroughputFigure> Throughput { get; } = [];

    public LatencyResult? Latency { get; set; }

    public string? LatencyBackend { get; set; }

    /// <summary>Diagnostic: the Redis latency at about a tenth of the measured capacity.</summary>
    public LatencyResult? LatencyLowLoad { get; set; }

    /// <summary>The Redis floor's finish → follow-up latency at the offered load of <see cref="Latency"/> (RedisFloorLatency).</summary>
    public LatencyResult? LatencyFloor { get; set; }

    /// <summary>The same at the offered load of <see cref="LatencyLowLoad"/>.</summary>
    public LatencyResult? LatencyFloorLowLoad { get; set; }

    /// <summary>The same latency measurement on the in-memory backend (engine only), when the main one ran on Redis.</summary>
    public LatencyResult? LatencyInMemory { get; set; }

    public List<CommandBreakdown> Commands { get; } = [];

    public SwarmFigure? Swarm { get; set; }

    public List<OperationFigure> BackendOperations { get; } = [];

    /// <summary>Mean time a run spends between backend calls (per run, not per pair).</summary>
    public List<OperationFigure> WorkerGaps { get; } = [];

    /// <summary>Commands sent by the clients (StackExchange.Redis operation counters) per task + callback pair.</summary>
    public double? ClientCommandsPerTask { get; set; }

    /// <summary>Average worker slots holding a run during the counting run (Little's law), out of <see cref="WorkerConcurrency"/>.</summary>
    public double? MeanRunsInFlight { get; set; }

    public int WorkerConcurrency { get; set; }

    /// <summary>redis-server CPU per item of the floor loop (INFO cpu), to compare with MageFlow's per task.</summary>
    public double? FloorServerCpuMicrosecondsPerTask { get; set; }

    /// <summary>redis-server CPU per pair on the Redis Cluster row, summed over its nodes (INFO cpu), median.</summary>
    public double? ClusterServerCpuMicrosecondsPerTask { get; set; }

    public double? PartitionedClusterServerCpuMicrosecondsPerTask { get; set; }

    /// <summary>Request/responses awaited per pair: backend operations, reads counted as the XREADGROUPs sent.</summary>
    public double? RoundTripsPerTask { get; set; }

    public MemoryResult? Memory { get; set; }

    public Dictionary<string, double> AllocatedBytesPerTask { get; } = [];

    /// <summary>Runtime counters of the last timed repetition per backend (GCs, pauses, thread-pool items, contention).</summary>
    public Dictionary<string, Measurements.RuntimeActivity> RuntimeActivity { get; } = [];

    /// <summary>Benchmark process CPU (all threads) per task over the timed part, by contender.</summary>
    public Dictionary<string, double> ClientCpuMicrosecondsPerTask { get; } = [];

    public Dictionary<string, double> SignaturesPerSecond { get; } = [];

    public List<SectionCost> HotPath { get; } = [];

    /// <summary>Server time per transition inside the Redis scripts, and in the commands they ran.</summary>
    public List<Measurements.ScriptCost.Phase> ScriptCosts { get; } = [];

    /// <summary>Diagnostic runs with one knob changed (not part of the target table).</summary>
    public List<Experiment> Experiments { get; } = [];

    public GeneratorFigure? Generator { get; set; }

    public List<TableRow> Table { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>The types that took most of a Redis run's allocation, sampled (<c>--allocation-types</c>); empty otherwise.</summary>
    public List<Profiling.AllocatedType> AllocatedTypes { get; } = [];

    public static string ReadLoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "?"; }
        catch (UnauthorizedAccessException) { return "?"; }
    }
}

internal sealed record TableRow(string Figure, string Value, string Spread, string Target, string Status, string How);
