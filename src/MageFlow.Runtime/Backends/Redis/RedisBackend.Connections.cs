using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// The connections: a multiplexed one that pipelines everything, and a dedicated one for blocking reads, which would
/// otherwise stall every command queued behind them — one per partition on a cluster of several partitions, since two
/// partitions a node serves would otherwise wait behind each other's blocking reads. Once connected, StackExchange.Redis
/// reconnects by itself after a restart or a killed connection; a failed first connect is tried again by the
/// next call, so a worker started while Redis is down starts once it is up.
/// </summary>
internal sealed partial class RedisBackend
{
    /// <summary>The blocking connection's command timeout, at least; a read blocks for at most half of it.</summary>
    private const int MinBlockingTimeoutMs = 10_000;

    /// <summary>XAUTOCLAIM (crash recovery) came with Redis 6.2.</summary>
    private static readonly Version MinimumServerVersion = new(7, 0);

    private readonly ConfigurationOptions _configuration;
    private readonly string _configurationForMessages;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private ConnectionMultiplexer? _main;
    private IDatabase? _database;
    private readonly ConnectionMultiplexer?[] _blocking;
    private readonly IDatabase?[] _blockingDatabases;
    private int _blockLimitMs;

    // A cluster serves each partition from its own slot, and no read spans two: one read per partition (set at connect).
    private bool _readPerPartition;
    private volatile bool _disposed;

    private static (ConfigurationOptions Configuration, string ForMessages) ParseConfiguration(RedisBackendOptions options)
    {
        try
        {
            var configuration = ConfigurationOptions.Parse(options.Configuration);
            return (configuration, configuration.ToString(includePassword: false));
        }
        catch (Exception ex) when (ex is ArgumentException or RedisException or FormatException)
        {
            // The raw string may hold a password: name the option, not its value.
            throw new ArgumentException($"RedisBackendOptions.Configuration is not a valid StackExchange.Redis configuration string: {ex.Message}", nameof(options), ex);
        }
    }

    private ValueTask<IDatabase> DatabaseAsync(CancellationToken cancellationToken) =>
        _database is { } database ? new(database) : new(ConnectMainAsync(cancellationToken));

    private async Task<IDatabase> ConnectMainAsync(CancellationToken cancellationToken)
    {
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_database is { } ready) return ready;
            var connection = await ConnectAsync(_configuration.Clone(), "commands").ConfigureAwait(false);
            try
            {
                await CheckServerAsync(connection).ConfigureAwait(false);
                await RefuseEarlierLayoutAsync(connection.GetDatabase(_options.Database)).ConfigureAwait(false);
                await CheckPartitionsAsync(connection.GetDatabase(_options.Database)).ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            await PreloadScriptsAsync(connection).ConfigureAwait(false);
            _readPerPartition = _layout.Partitions.Count > 1 && connection.GetServers().Any(server => server.ServerType == ServerType.Cluster);
            _main = connection;
            return _database = connection.GetDatabase(_options.Database);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>The blocking-read connection of a lane: lane 0 for a read over every partition, or a partition's own.</summary>
    private async Task<IDatabase> BlockingDatabaseAsync(int lane, CancellationToken cancellationToken)
    {
        if (_blockingDatabases[lane] is { } database) return database;
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_blockingDatabases[lane] is { } ready) return ready;
            var configuration = _configuration.Clone();
            configuration.AsyncTimeout = Math.Max(configuration.AsyncTimeout, MinBlockingTimeoutMs);
            configuration.SyncTimeout = Math.Max(configuration.SyncTimeout, MinBlockingTimeoutMs);
            // Reads only: no subscription connection to every node (unless the user's configuration maps commands itself).
            if (ReferenceEquals(configuration.CommandMap, CommandMap.Default))
                configuration.CommandMap = CommandMap.Create(["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"], available: false);
            _blockLimitMs = configuration.AsyncTimeout / 2;
            var connection = await ConnectAsync(configuration, lane == 0 ? "blocking reads" : $"blocking reads of partition {lane}").ConfigureAwait(false);
            _blocking[lane] = connection;
            return _blockingDatabases[lane] = connection.GetDatabase(_options.Database);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration, string purpose)
    {
        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            RedisLog.Connected(_logger, _configurationForMessages, purpose);
            return connection;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None,
                $"MageFlow could not connect to Redis at '{_configurationForMessages}' (RedisBackendOptions.Configuration) for {purpose}: {ex.Message}", ex, CommandStatus.Unknown);
        }
    }

    /// <summary>
    /// Refuses a server too old for MageFlow's Lua library (Redis functions) and a database other than 0 on a Redis
    /// Cluster, and warns when Redis
    /// may evict keys: an eviction policy other than <c>noeviction</c> silently deletes signatures and queues when
    /// memory runs out.
    /// </summary>
    private async Task CheckServerAsync(ConnectionMultiplexer connection)
    {
        // A cluster has only database 0; say so instead of StackExchange.Redis's error on the first command.
        if (_options.Database > 0 && connection.GetServers().Any(server => server.ServerType == ServerType.Cluster))
            throw new NotSupportedException(
                $"Redis at {_configurationForMessages} runs in cluster mode, which has only database 0; RedisBackendOptions.Database is {_options.Database}. Use a key prefix (RedisBackendOptions.KeyPrefix) to separate deployments instead.");
        // Every primary: a cluster's nodes each have their own version and policy, and the store's slot may move to any.
        foreach (var server in connection.GetServers().Where(server => server.IsConnected && !server.IsReplica))
        {
            string info;
            try
            {
                // Asked through a one-line script: StackExchange.Redis sends INFO only in admin mode, which users rarely enable.
                info = (string?)await server.ExecuteAsync("EVAL", "return redis.call('INFO', 'server') .. redis.call('INFO', 'memory')", 0).ConfigureAwait(false) ?? "";
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                continue; // INFO denied by an ACL or renamed: the checks are advice, not requirements
            }
            var (version, policy) = ParseServerInfo(info);
            var where = server.ServerType == ServerType.Cluster ? $"{_configurationForMessages} (node {NodeName(server.EndPoint)})" : _configurationForMessages;
            if (version is not null && version < MinimumServerVersion)
                throw new NotSupportedException(
                    $"Redis at {where} is version {version}; MageFlow needs Redis {MinimumServerVersion} or later (its transitions are a Lua function library: FUNCTION LOAD, FCALL).");
            if (policy is not null && policy != "noeviction")
                RedisLog.EvictionPolicy(_logger, where, policy);
        }
    }

    /// <summary>
    /// A store written by a MageFlow before every key took the hash tag <c>{prefix}</c> is invisible to this one: its
    /// queued runs would never run and its signatures never finish, silently. Refused at connect, saying how to move on.
    /// </summary>
    private async Task RefuseEarlierLayoutAsync(IDatabase database)
    {
        var earlier = _layout.EarlierTaskDefinitions;
        if (await database.KeyTypeAsync(earlier).ConfigureAwait(false) != RedisType.Hash) return;
        throw new InvalidOperationException(
            $"Redis at {_configurationForMessages}, database {_options.Database}, holds a MageFlow store in the key layout of an earlier version under the key prefix '{_options.KeyPrefix}' " +
            $"(the hash '{earlier}'): this version keeps every key under the hash tag '{_layout.Prefix}' and would never see that store's queued runs or signatures. " +
            $"To move on without losing work: stop the producers, let the earlier version's workers finish what is queued, then delete the old keys (every key matching '{_options.KeyPrefix}:*'). " +
            $"Or give this version another RedisBackendOptions.KeyPrefix. (If '{earlier}' is not MageFlow's, choose another KeyPrefix as well.)");
    }

    /// <summary>
    /// Every client of a store must split it the same way, or a worker would never read the partitions it does not
    /// know: the first to connect records the partitions (their count and names), and a client configured otherwise is
    /// refused at connect, naming both.
    /// </summary>
    private async Task CheckPartitionsAsync(IDatabase database)
    {
        var described = _layout.Partitions.Describe();
        // A store whose layout a version before packed signature records wrote keeps its signatures as hashes,
        // which this version cannot read: refused, as the earlier key layout is.
        var earlier = await database.HashGetAsync(_layout.LayoutRecord, ["partitions", RedisLayout.RecordFormatField]).ConfigureAwait(false);
        if (!earlier[0].IsNull && earlier[1] != RedisLayout.RecordFormat)
            throw new InvalidOperationException(
                $"The MageFlow store at {_configurationForMessages}, key prefix '{_options.KeyPrefix}', was written by an earlier MageFlow, which kept each signature as a hash ('{_layout.LayoutRecord}' has no '{RedisLayout.RecordFormatField}' = '{RedisLayout.RecordFormat}'): " +
                "this version keeps a signature as one packed record and would fail every signature stored before. " +
                $"To move on without losing work: stop the producers, let the earlier version's workers finish what is queued, then delete the store's keys (every key matching '{{{_options.KeyPrefix}}}*' and '{{{_options.KeyPrefix}{RedisPartitions.Separator}*'). " +
                "Or give this version another RedisBackendOptions.KeyPrefix.");
        var transaction = database.CreateTransaction();
        _ = transaction.HashSetAsync(_layout.LayoutRecord, "partitions", _layout.Partitions.Count, When.NotExists);
        _ = transaction.HashSetAsync(_layout.LayoutRecord, "names", described, When.NotExists);
        _ = transaction.HashSetAsync(_layout.LayoutRecord, RedisLayout.RecordFormatField, RedisLayout.RecordFormat, When.NotExists);
        var recorded = transaction.HashGetAsync(_layout.LayoutRecord, ["partitions", "names"]);
        await transaction.ExecuteAsync().ConfigureAwait(false);
        var found = await recorded.ConfigureAwait(false);
        if ((string?)found[0] == _layout.Partitions.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) && (string?)found[1] == described) return;
        throw new InvalidOperationException(
            $"The MageFlow store at {_configurationForMessages}, key prefix '{_options.KeyPrefix}', is split into {found[0]} partitions (recorded in '{_layout.LayoutRecord}'), " +
            $"but this client is configured with RedisBackendOptions.Partitions = {_layout.Partitions.Count}: its workers would never read the partitions it does not know. " +
            $"Configure every producer and worker of this store with Partitions = {found[0]}, or use another KeyPrefix for a store split otherwise.");
    }

    private static string NodeName(System.Net.EndPoint endPoint) => endPoint switch
    {
        System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "?",
    };

    /// <summary>The server version and eviction policy from INFO text (<c>name:value</c> lines); null where absent.</summary>
    internal static (Version? Version, string? Policy) ParseServerInfo(string info)
    {
        Version? version = null;
        string? policy = null;
        foreach (var line in info.Split('\n'))
        {
            var pair = line.Trim().Split(':', 2);
            if (pair.Length != 2) continue;
            if (pair[0] == "redis_version" && Version.TryParse(pair[1], out var parsed)) version = parsed;
            else if (pair[0] == "maxmemory_policy") policy = pair[1];
        }
        return (version, policy);
    }

    /// <summary>Loads the script library up front so the first transitions find it.</summary>
    private async Task PreloadScriptsAsync(ConnectionMultiplexer connection)
    {
        try
        {
            await RedisScript.LoadLibraryAsync(connection).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or RedisCommandException or TimeoutException)
        {
            // Not fatal: a transition that finds no library loads it first.
            RedisLog.ScriptPreloadFailed(_logger, ex, _configurationForMessages);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        Task[] reads;
        lock (_readAheadGate) reads = [.. _partitionReads.Values];
        if (_abandonedRead is { } abandoned) reads = [.. reads, abandoned];
        if (reads.Length > 0)
            await Task.WhenAll(reads).WaitAsync(TimeSpan.FromMilliseconds(_blockLimitMs + 1000)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await ReleaseReadAheadAsync().ConfigureAwait(false);
        foreach (var connection in _blocking.Append(_main))
        {
            if (connection is null) continue;
            try
            {
                await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        _connectGate.Dispose();
    }

    private static partial class RedisLog
    {
        [LoggerMessage(100, LogLevel.Information, "Connected to Redis at {Configuration} for {Purpose}")]
        public static partial void Connected(ILogger logger, string configuration, string purpose);

        [LoggerMessage(101, LogLevel.Warning, "Could not load the MageFlow Lua library on Redis at {Configuration}; the first transition loads it")]
        public static partial void ScriptPreloadFailed(ILogger logger, Exception exception, string configuration);

        [LoggerMessage(102, LogLevel.Warning, "A read abandoned on cancellation failed; entries it took are reclaimed after the visibility timeout")]
        public static partial void AbandonedReadFailed(ILogger logger, Exception exception);

        [LoggerMessage(103, LogLevel.Warning, "Could not release {Count} read-ahead entries at shutdown; they are reclaimed after the visibility timeout")]
        public static partial void ReleaseReadAheadFailed(ILogger logger, Exception exception, int count);

        [LoggerMessage(104, LogLevel.Warning, "Redis at {Configuration} has maxmemory-policy {Policy}: when memory runs out it evicts keys, and MageFlow loses signatures and queued runs. Set maxmemory-policy noeviction")]
        public static partial void EvictionPolicy(ILogger logger, string configuration, string policy);

        [LoggerMessage(105, LogLevel.Error, "Removed {Count} unreadable members of {Key}: they were not parked by MageFlow")]
        public static partial void DroppedUnreadableRetries(ILogger logger, int count, string key);

        [LoggerMessage(106, LogLevel.Warning, "Callback {CallbackId} no longer exists (expired or deleted); it was not dispatched")]
        public static partial void ForwardedCallbackMissing(ILogger logger, string callbackId);

        [LoggerMessage(107, LogLevel.Warning, "Could not apply the outbox message '{Operation}' to signature {SignatureId} now; it is applied again after the visibility timeout")]
        public static partial void OutboxApplyDeferred(ILogger logger, Exception exception, string operation, string signatureId);

        [LoggerMessage(108, LogLevel.Error, "Redis refused the outbox message '{Operation}' to signature {SignatureId}; it was dropped")]
        public static partial void OutboxApplyRefused(ILogger logger, Exception exception, string operation, string signatureId);

        [LoggerMessage(109, LogLevel.Error, "Removed the unreadable outbox entry {EntryId} of partition {Partition}: it was not written by MageFlow")]
        public static partial void UnreadableOutboxMessage(ILogger logger, string entryId, string partition);

        [LoggerMessage(110, LogLevel.Warning, "A task queue of partition {Partition} could not be read: {Problem}. The other queues were read")]
        public static partial void QueueUnreadable(ILogger logger, string partition, string problem);

        [LoggerMessage(111, LogLevel.Warning, "A read started runs, then {Step} in partition {Partition} failed; the runs go on, and it is tried again on a later read")]
        public static partial void AfterStartsFailed(ILogger logger, Exception exception, string step, string partition);
    }
}
