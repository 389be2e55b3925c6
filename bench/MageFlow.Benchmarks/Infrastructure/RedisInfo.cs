using System.Globalization;
using StackExchange.Redis;

namespace MageFlow.Benchmarks.Infrastructure;

/// <summary>
/// Server-side counters: INFO commandstats / stats / memory, read through an admin connection. On a cluster the
/// counters are summed over its primaries and a flush or reset reaches each of them.
/// </summary>
internal sealed class RedisInfo : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _connection;

    private RedisInfo(ConnectionMultiplexer connection) => _connection = connection;

    /// <param name="endpoints">One endpoint, or a cluster's nodes comma-separated.</param>
    public static async Task<RedisInfo> ConnectAsync(string endpoints)
    {
        var options = ConfigurationOptions.Parse(endpoints);
        options.AllowAdmin = true;
        return new(await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false));
    }

    public ConnectionMultiplexer Connection => _connection;

    private IEnumerable<IServer> Primaries => _connection.GetServers().Where(server => !server.IsReplica);

    public Task FlushDatabaseAsync(int database) => Task.WhenAll(Primaries.Select(server => server.FlushDatabaseAsync(database)));

    public Task ResetStatsAsync() => Task.WhenAll(Primaries.Select(server => server.ConfigResetStatisticsAsync()));

    public async Task<string> VersionAsync() => (await InfoSectionAsync(Primaries.First(), "server").ConfigureAwait(false)).GetValueOrDefault("redis_version", "?");

    public async Task<long> UsedMemoryAsync()
    {
        long used = 0;
        foreach (var server in Primaries)
            used += long.Parse((await InfoSectionAsync(server, "memory").ConfigureAwait(false))["used_memory"], CultureInfo.InvariantCulture);
        return used;
    }

    public async Task<CommandSnapshot> SnapshotAsync()
    {
        var sum = new CommandSnapshot(0, new Dictionary<string, CommandCount>(StringComparer.Ordinal), 0);
        foreach (var server in Primaries) sum = sum.Plus(await SnapshotAsync(server).ConfigureAwait(false));
        return sum;
    }

    private static async Task<CommandSnapshot> SnapshotAsync(IServer server)
    {
        var stats = await InfoSectionAsync(server, "stats").ConfigureAwait(false);
        var cpu = await InfoSectionAsync(server, "cpu").ConfigureAwait(false);
        var cpuSeconds = double.Parse(cpu["used_cpu_user"], CultureInfo.InvariantCulture) + double.Parse(cpu["used_cpu_sys"], CultureInfo.InvariantCulture);
        var commands = await InfoSectionAsync(server, "commandstats").ConfigureAwait(false);
        var perCommand = new Dictionary<string, CommandCount>(StringComparer.Ordinal);
        foreach (var (key, value) in commands)
        {
            if (!key.StartsWith("cmdstat_", StringComparison.Ordinal)) continue;
            long calls = 0, usec = 0;
            foreach (var part in value.Split(','))
            {
                var eq = part.IndexOf('=');
                if (eq < 0) continue;
                var name = part[..eq];
                if (name == "calls") calls = long.Parse(part[(eq + 1)..], CultureInfo.InvariantCulture);
                else if (name == "usec") usec = long.Parse(part[(eq + 1)..], CultureInfo.InvariantCulture);
            }
            perCommand[key["cmdstat_".Length..]] = new CommandCount(calls, usec);
        }
        return new CommandSnapshot(long.Parse(stats["total_commands_processed"], CultureInfo.InvariantCulture), perCommand, cpuSeconds);
    }

    private static async Task<Dictionary<string, string>> InfoSectionAsync(IServer server, string section)
    {
        var text = (string?)await server.ExecuteAsync("INFO", section).ConfigureAwait(false) ?? "";
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            var colon = line.IndexOf(':');
            if (colon > 0) values[line[..colon]] = line[(colon + 1)..];
        }
        return values;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}

internal readonly record struct CommandCount(long Calls, long Microseconds)
{
    /// <summary>Per command, the counts of both sets added up.</summary>
    public static Dictionary<string, CommandCount> Add(IReadOnlyDictionary<string, CommandCount> first, IReadOnlyDictionary<string, CommandCount> second) =>
        first.Concat(second).GroupBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new CommandCount(g.Sum(p => p.Value.Calls), g.Sum(p => p.Value.Microseconds)), StringComparer.Ordinal);
}

/// <summary>
/// Counters at one instant. Redis 7 counts the commands a script runs in both total_commands_processed and
/// commandstats, so these are commands executed, not commands sent; the client side counts what was sent.
/// </summary>
internal sealed record CommandSnapshot(long TotalProcessed, IReadOnlyDictionary<string, CommandCount> PerCommand, double CpuSeconds)
{
    /// <summary>Both servers' counters together (a cluster's nodes).</summary>
    public CommandSnapshot Plus(CommandSnapshot other) => new(
        TotalProcessed + other.TotalProcessed,
        CommandCount.Add(PerCommand, other.PerCommand),
        CpuSeconds + other.CpuSeconds);

    public CommandDelta Since(CommandSnapshot before)
    {
        var delta = new Dictionary<string, CommandCount>(StringComparer.Ordinal);
        foreach (var (name, after) in PerCommand)
        {
            var earlier = before.PerCommand.GetValueOrDefault(name);
            var calls = after.Calls - earlier.Calls;
            if (calls > 0) delta[name] = new CommandCount(calls, after.Microseconds - earlier.Microseconds);
        }
        return new CommandDelta(delta, CpuSeconds - before.CpuSeconds);
    }
}

/// <param name="CpuSeconds">redis-server's own CPU time (INFO cpu, user + sys): parsing, networking and execution.</param>
internal sealed record CommandDelta(IReadOnlyDictionary<string, CommandCount> PerCommand, double CpuSeconds)
{
    // The INFO calls that read the counters are themselves counted; they are not the workload's.
    private static readonly HashSet<string> Observer = new(StringComparer.Ordinal) { "info", "config|resetstat" };

    public IEnumerable<KeyValuePair<string, CommandCount>> Workload => PerCommand.Where(p => !Observer.Contains(p.Key));

    public long ExecutedCommands => Workload.Sum(p => p.Value.Calls);

    /// <summary>Execution time of the scripts (their usec includes the commands they ran).</summary>
    public long ScriptMicroseconds => PerCommand.Where(p => p.Key is "evalsha" or "eval" or "fcall").Sum(p => p.Value.Microseconds);

    public long ScriptCalls => PerCommand.Where(p => p.Key is "evalsha" or "eval" or "fcall").Sum(p => p.Value.Calls);

    public long Calls(string command) => PerCommand.GetValueOrDefault(command).Calls;

    public CommandDelta Plus(CommandDelta other) => new(CommandCount.Add(PerCommand, other.PerCommand), CpuSeconds + other.CpuSeconds);
}
