namespace MageFlow.Benchmarks.Infrastructure;

/// <summary>What one run measures and how big; parsed from the command line.</summary>
internal sealed record BenchSettings
{
    public bool Quick { get; init; }

    /// <summary>Task + callback pairs per MageFlow / floor throughput repetition.</summary>
    public int Tasks { get; init; } = 20_000;

    /// <summary>Items of the one swarm per swarm repetition.</summary>
    public int SwarmItems { get; init; } = 10_000;

    /// <summary>Job + continuation pairs per Hangfire repetition (Hangfire is ~200× slower, so fewer).</summary>
    public int HangfireTasks { get; init; } = 1_000;

    /// <summary>Repetitions of each throughput measurement; the table shows the median and min–max.</summary>
    public int Repetitions { get; init; } = 5;

    public int HangfireRepetitions { get; init; } = 3;

    /// <summary>Pending signatures stored for the memory figure.</summary>
    public int MemorySignatures { get; init; } = 100_000;

    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Upper bound for any single measurement; past it the run fails with a message naming it.</summary>
    public TimeSpan MeasurementTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>An existing Redis (host:port) instead of starting a private redis-server.</summary>
    public string? RedisEndpoint { get; init; }

    public string? OutputDirectory { get; init; }

    public bool SkipHangfire { get; init; }

    /// <summary>Sign through hand-registered TaskDescriptor.Create tasks instead of the generated builders.</summary>
    public bool HandRegistered { get; init; }

    /// <summary>Time builds of a synthetic 500-task project with and without the generator (default run: on; --quick: off).</summary>
    public bool GeneratorCost { get; init; } = true;

    /// <summary>Measure the generator cost alone: no Redis server, no other measurement (<c>--only generator</c>).</summary>
    public bool OnlyGenerator { get; init; }

    /// <summary>Only the "Script cost per transition" section, three runs, the lowest per phase (<c>--only script-cost</c>): a quick check of one script change.</summary>
    public bool OnlyScriptCost { get; init; }

    /// <summary>Only the Redis end-to-end row against the floor, interleaved, with CPU and allocation per task (<c>--only end-to-end</c>): a quick check of one hot-path change.</summary>
    public bool OnlyEndToEnd { get; init; }

    /// <summary>Only the Redis row's capacity and the finish → callback latency at half and a tenth of it (<c>--only latency</c>): a quick check of one batching change.</summary>
    public bool OnlyLatency { get; init; }

    /// <summary>With <c>--only end-to-end</c>: one more Redis repetition with the runtime's allocation sampling on, listing what the bytes per task are (<c>--allocation-types</c>).</summary>
    public bool AllocationTypes { get; init; }

    public static BenchSettings Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var settings = quick
            ? new BenchSettings
            {
                Quick = true,
                Tasks = 2_000,
                SwarmItems = 1_000,
                HangfireTasks = 200,
                Repetitions = 1,
                HangfireRepetitions = 1,
                MemorySignatures = 10_000,
                LatencyDuration = TimeSpan.FromSeconds(1.5),
                MeasurementTimeout = TimeSpan.FromSeconds(60),
                GeneratorCost = false,
            }
            : new BenchSettings();

        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--quick": break;
                case "--redis": settings = settings with { RedisEndpoint = Value() }; break;
                case "--tasks": settings = settings with { Tasks = int.Parse(Value()) }; break;
                case "--swarm-items": settings = settings with { SwarmItems = int.Parse(Value()) }; break;
                case "--hangfire-tasks": settings = settings with { HangfireTasks = int.Parse(Value()) }; break;
                case "--repetitions": settings = settings with { Repetitions = int.Parse(Value()) }; break;
                case "--memory-signatures": settings = settings with { MemorySignatures = int.Parse(Value()) }; break;
                case "--out": settings = settings with { OutputDirectory = Value() }; break;
                case "--no-hangfire": settings = settings with { SkipHangfire = true }; break;
                case "--hand-registered": settings = settings with { HandRegistered = true }; break;
                case "--generator-cost": settings = settings with { GeneratorCost = true }; break;
                case "--no-generator-cost": settings = settings with { GeneratorCost = false }; break;
                case "--allocation-types": settings = settings with { AllocationTypes = true }; break;
                case "--only":
                    settings = Value() switch
                    {
                        "generator" => settings with { OnlyGenerator = true, GeneratorCost = true },
                        "script-cost" => settings with { OnlyScriptCost = true },
                        "end-to-end" => settings with { OnlyEndToEnd = true, GeneratorCost = false },
                        "latency" => settings with { OnlyLatency = true, GeneratorCost = false },
                        var other => throw new ArgumentException($"--only takes 'generator', 'script-cost', 'end-to-end' or 'latency', not '{other}'."),
                    };
                    break;
                case "--help" or "-h":
                    throw new HelpRequestedException();
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. {Usage}");
            }
        }
        if (settings.AllocationTypes && !settings.OnlyEndToEnd)
            throw new ArgumentException($"--allocation-types samples the Redis end-to-end run of --only end-to-end: add --only end-to-end. {Usage}");
        return settings;
    }

    public const string Usage =
        "Usage: dotnet run -c Release --project bench/MageFlow.Benchmarks [-- --quick] [--redis host:port] " +
        "[--tasks N] [--swarm-items N] [--hangfire-tasks N] [--repetitions N] [--memory-signatures N] [--no-hangfire] [--hand-registered] [--generator-cost | --no-generator-cost] [--only generator|script-cost|end-to-end|latency] [--allocation-types] [--out DIR]";
}

internal sealed class HelpRequestedException : Exception;
