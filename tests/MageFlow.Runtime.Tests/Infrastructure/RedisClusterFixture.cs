using System.Diagnostics;
using MageFlow.TestRedis;

namespace MageFlow.Runtime.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster of three masters (no replicas) on free loopback ports, each node in its own temporary
/// directory: <c>redis-server --cluster-enabled yes</c> three times, joined by
/// <c>redis-cli --cluster create … --cluster-replicas 0 --cluster-yes</c>, ready once every node says
/// <c>cluster_state:ok</c>.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime, IRedisDeployment
{
    private const int Masters = 3;
    private readonly List<Process> _nodes = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "mageflow-cluster-" + Guid.NewGuid().ToString("N")[..8]);
    private int[] _ports = [];
    private StackExchange.Redis.ConnectionMultiplexer? _inspector;

    /// <summary>Every node, comma-separated, as a StackExchange.Redis configuration string.</summary>
    public string Configuration => string.Join(",", _ports.Select(port => $"127.0.0.1:{port}"));

    /// <summary>A cluster-aware connection for inspecting keys, as the tests on one redis-server have.</summary>
    public StackExchange.Redis.IDatabase Database => (_inspector ?? throw new InvalidOperationException("The cluster fixture has not started.")).GetDatabase();

    /// <summary>The master that serves the store's slot now: its key prefix is the hash tag of all its keys.</summary>
    public StackExchange.Redis.IServer ServerOfStore(string keyPrefix) =>
        _inspector!.GetServer(_inspector.GetServers().First().ClusterConfiguration!.GetBySlot(_inspector.HashSlot("{" + keyPrefix + "}"))!.EndPoint);

    public async Task InitializeAsync()
    {
        _ports = Enumerable.Range(0, Masters).Select(_ => RedisProcess.FreeLoopbackPort()).ToArray();
        foreach (var port in _ports)
        {
            var directory = Path.Combine(_directory, port.ToString());
            Directory.CreateDirectory(directory);
            _nodes.Add(await RedisProcess.StartAsync(port,
                ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--dir", directory, "--save", "", "--appendonly", "no"], directory));
        }
        await RedisCli.CreateClusterAsync(_ports);
        _inspector = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Configuration + ",allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        if (_inspector is not null) await _inspector.DisposeAsync();
        foreach (var node in _nodes) await RedisProcess.StopAsync(node);
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { } // a node's files still closing: the temp directory is cleaned by the OS
    }

    /// <summary>The hash slot of <paramref name="key"/> (CLUSTER KEYSLOT).</summary>
    public async Task<int> SlotOfAsync(string key) =>
        int.Parse((await RedisCli.RunAsync(["-p", _ports[0].ToString(), "cluster", "keyslot", key])).Output.Trim());

    /// <summary>Runs a command on every node (e.g. FUNCTION FLUSH), as an operator would with redis-cli.</summary>
    public async Task OnEveryNodeAsync(params string[] command)
    {
        foreach (var port in _ports)
        {
            var run = await RedisCli.RunAsync(["-p", port.ToString(), .. command]);
            if (run.ExitCode != 0 || run.Output.StartsWith("ERR", StringComparison.Ordinal))
                throw new InvalidOperationException($"redis-cli {string.Join(' ', command)} on port {port} failed: {run.Output}");
        }
    }

    /// <summary>The port and node id of the master that serves <paramref name="slot"/>.</summary>
    public async Task<(int Port, string NodeId)> OwnerOfSlotAsync(int slot)
    {
        foreach (var port in _ports)
        {
            var (id, ranges) = await MySlotsAsync(port);
            if (ranges.Any(range => range.First <= slot && slot <= range.Last)) return (port, id);
        }
        throw new InvalidOperationException($"No node of the cluster serves slot {slot}.");
    }

    /// <summary>
    /// Moves <paramref name="slot"/> to another master the way <c>redis-cli --cluster reshard</c> moves each slot:
    /// IMPORTING on the target, MIGRATING on the source, its keys MIGRATEd a few at a time, then the new owner made
    /// known to every node. The pause between batches keeps the slot half-moved for a while, which is when clients
    /// meet ASK and TRYAGAIN. Returns the new owner's port.
    /// </summary>
    public async Task<int> MoveSlotAsync(int slot, TimeSpan pauseBetweenBatches)
    {
        var (fromPort, fromId) = await OwnerOfSlotAsync(slot);
        var toPort = _ports.First(port => port != fromPort);
        var (toId, _) = await MySlotsAsync(toPort);
        await RequireOkAsync(toPort, "cluster", "setslot", slot.ToString(), "importing", fromId);
        await RequireOkAsync(fromPort, "cluster", "setslot", slot.ToString(), "migrating", toId);
        while (true)
        {
            var keys = (await RedisCli.RunAsync(["-p", fromPort.ToString(), "cluster", "getkeysinslot", slot.ToString(), "3"])).Output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (keys.Length == 0) break;
            await RequireOkAsync(fromPort, ["migrate", "127.0.0.1", toPort.ToString(), "", "0", "5000", "keys", .. keys]);
            await Task.Delay(pauseBetweenBatches);
        }
        await RequireOkAsync(toPort, "cluster", "setslot", slot.ToString(), "node", toId);
        await RequireOkAsync(fromPort, "cluster", "setslot", slot.ToString(), "node", toId);
        foreach (var port in _ports.Where(port => port != fromPort && port != toPort))
            await RequireOkAsync(port, "cluster", "setslot", slot.ToString(), "node", toId);
        return toPort;
    }

    /// <summary>
    /// Moves one slot with <c>redis-cli --cluster reshard</c> itself, as an operator adding capacity would: from the
    /// master on <paramref name="fromPort"/> to another, <paramref name="keysPerBatch"/> keys per MIGRATE. The tool
    /// takes the source's lowest slot (<see cref="LowestSlotAsync"/>). Returns the new owner's port.
    /// </summary>
    public async Task<int> ReshardOneSlotAsync(int fromPort, int keysPerBatch)
    {
        var toPort = _ports.First(port => port != fromPort);
        var (fromId, _) = await MySlotsAsync(fromPort);
        var (toId, _) = await MySlotsAsync(toPort);
        var reshard = await RedisCli.RunAsync(["--cluster", "reshard", $"127.0.0.1:{fromPort}", "--cluster-from", fromId, "--cluster-to", toId,
            "--cluster-slots", "1", "--cluster-pipeline", keysPerBatch.ToString(), "--cluster-yes"]);
        if (reshard.ExitCode != 0) throw new InvalidOperationException($"redis-cli --cluster reshard failed ({reshard.ExitCode}):\n{reshard.Output}");
        return toPort;
    }

    /// <summary>The lowest slot the master on <paramref name="port"/> serves: the one <c>redis-cli --cluster reshard</c> moves first.</summary>
    public async Task<int> LowestSlotAsync(int port) => (await MySlotsAsync(port)).Ranges.Min(range => range.First);

    /// <summary>The port of each master.</summary>
    public IReadOnlyList<int> Ports => _ports;

    private static async Task RequireOkAsync(int port, params string[] command)
    {
        var run = await RedisCli.RunAsync(["-p", port.ToString(), .. command]);
        if (run.ExitCode != 0 || !run.Output.TrimStart().StartsWith("OK", StringComparison.Ordinal))
            throw new InvalidOperationException($"redis-cli {string.Join(' ', command)} on port {port} failed: {run.Output}");
    }

    /// <summary>A node's id and the slot ranges it serves, from its own line of CLUSTER NODES.</summary>
    private static async Task<(string NodeId, List<(int First, int Last)> Ranges)> MySlotsAsync(int port)
    {
        var nodes = await RedisCli.RunAsync(["-p", port.ToString(), "cluster", "nodes"]);
        var mine = nodes.Output.Split('\n').Single(line => line.Contains("myself", StringComparison.Ordinal)).Trim().Split(' ');
        var ranges = new List<(int, int)>();
        foreach (var part in mine.Skip(8).Where(part => !part.StartsWith('[')))
        {
            var bounds = part.Split('-');
            ranges.Add((int.Parse(bounds[0]), int.Parse(bounds[^1])));
        }
        return (mine[0], ranges);
    }
}

/// <summary>Every test class run against the Redis Cluster joins this collection and so shares one cluster.</summary>
[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>
{
    public const string Name = "redis-cluster";
}
