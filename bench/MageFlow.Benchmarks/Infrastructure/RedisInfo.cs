using System.Globalization;
using StackExchange.Redis;

namespace MageFlow.Benchmarks.Infrastructure;

/// <summary>Server-side counters: INFO commandstats / stats / memory, read through an admin connection.</summary>
internal sealed class RedisInfo : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _connection;

    private RedisInfo(ConnectionMultiplexer connection) => _connection = connection;

    public static async Task<RedisInfo> ConnectAsync(string endpoint) =>
        new(await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { endpoint }, AllowAdmin = true }).ConfigureAwait(false));

    public ConnectionMultiplexer Connection => _connection;

    private IServer Server => _connection.GetServer(_connection.GetEndPoints()[0]);

    public Task FlushDatabaseAsync(int database) => Server.FlushDatabaseAsync(database);

    public Task ResetStatsAsync() => Server.ConfigResetStatisticsAsync();

    public async Task<string> VersionAsync() => (await InfoSectionAsync("server").ConfigureAwait(false)).GetValueOrDefault("redis_version", "?");

    public async Task<long> UsedMemoryAsync() =>
        long.Parse((await InfoSectionAsync("memory").ConfigureAwait(false))["used_memory"], CultureInfo.InvariantCulture);

    public async Task<CommandSnapshot> SnapshotAsync()
    {
        var stats = await InfoSectionAsync("stats").ConfigureAwait(false);
        var commands = await InfoSectionAsync("commandstats").ConfigureAwait(false);
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
        return new CommandSnapshot(long.Parse(stats["total_commands_processed"], CultureInfo.InvariantCulture), perCommand);
    }

    private async Task<Dictionary<string, string>> InfoSectionAsync(string section)
    {
        var text = (string?)await Server.ExecuteAsync("INFO", section).ConfigureAwait(false) ?? "";
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

internal readonly record struct CommandCount(long Calls, long Microseconds);

/// <summary>
/// Counters at one instant. Redis 7 counts the commands a script runs in both total_commands_processed and
/// commandstats, so these are commands executed, not commands sent; the client side counts what was sent.
/// </summary>
internal sealed record CommandSnapshot(long TotalProcessed, IReadOnlyDictionary<string, CommandCount> PerCommand)
{
    public CommandDelta Since(CommandSnapshot before)
    {
        var delta = new Dictionary<string, CommandCount>(StringComparer.Ordinal);
        foreach (var (name, after) in PerCommand)
        {
            var earlier = before.PerCommand.GetValueOrDefault(name);
            var calls = after.Calls - earlier.Calls;
            if (calls > 0) delta[name] = new CommandCount(calls, after.Microseconds - earlier.Microseconds);
        }
        return new CommandDelta(delta);
    }
}

internal sealed record CommandDelta(IReadOnlyDictionary<string, CommandCount> PerCommand)
{
    // The INFO calls that read the counters are themselves counted; they are not the workload's.
    private static readonly HashSet<string> Observer = new(StringComparer.Ordinal) { "info", "config|resetstat" };

    public IEnumerable<KeyValuePair<string, CommandCount>> Workload => PerCommand.Where(p => !Observer.Contains(p.Key));

    public long ExecutedCommands => Workload.Sum(p => p.Value.Calls);

    public long ServerMicroseconds => Workload.Sum(p => p.Value.Microseconds);

    public long ScriptCalls => PerCommand.Where(p => p.Key is "evalsha" or "eval" or "fcall").Sum(p => p.Value.Calls);

    public long Calls(string command) => PerCommand.GetValueOrDefault(command).Calls;

    public CommandDelta Plus(CommandDelta other) => new(PerCommand.Concat(other.PerCommand).GroupBy(p => p.Key)
        .ToDictionary(g => g.Key, g => new CommandCount(g.Sum(p => p.Value.Calls), g.Sum(p => p.Value.Microseconds))));
}
