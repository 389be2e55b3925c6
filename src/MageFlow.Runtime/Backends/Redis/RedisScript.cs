using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MageFlow.Signatures;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// One transition of the Redis backend: a function of MageFlow's Lua library, called with FCALL. The library —
/// the constants of <see cref="Prelude"/>, <c>includes/common.lua</c>, and each script file as one function — is
/// loaded once per server (FUNCTION LOAD), so a call runs only its own function; as EVAL scripts, every call ran
/// the shared prelude and helpers again (~100k instructions, more than a whole start transition). The library's
/// name carries a hash of its source, so a server shared by two MageFlow versions holds each one's library side
/// by side. When the server lost it (a restart without persistence, FUNCTION FLUSH) the call loads it again and is
/// repeated once: "Function not found" means nothing ran.
/// </summary>
internal sealed class RedisScript
{
    private const string ScriptResourcePrefix = "MageFlow.Redis.";
    private const string IncludesResourcePrefix = "MageFlow.Redis.includes.";

    private static readonly string Common = ReadResource(IncludesResourcePrefix + "common.lua");

    private RedisScript(string name)
    {
        if (!ScriptFileNames.Contains(name))
            throw new InvalidOperationException($"The embedded Lua script '{name}.lua' is missing from MageFlow.Runtime.");
        FunctionName = $"{LibraryName}_{name}";
    }

    /// <summary>The name FCALL calls it by: the library's name and the script file's.</summary>
    public string FunctionName { get; }

    /// <summary>The constants the scripts use, generated from <see cref="SignatureStatus"/>, <see cref="EnvelopeKind"/> and <see cref="RedisLayout"/>.</summary>
    internal static string Prelude { get; } = BuildPrelude();

    /// <summary>Every embedded script file (<c>Backends/Redis/Scripts/*.lua</c>), by name without extension.</summary>
    private static IReadOnlyList<string> ScriptFileNames { get; } = typeof(RedisScript).Assembly.GetManifestResourceNames()
        .Where(r => r.StartsWith(ScriptResourcePrefix, StringComparison.Ordinal) && !r.StartsWith(IncludesResourcePrefix, StringComparison.Ordinal))
        .Select(r => r[ScriptResourcePrefix.Length..^".lua".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    // After Common, Prelude and ScriptFileNames: static initializers run in the order they are written.
    private static readonly (string Name, string Source) Library = BuildLibrary();

    /// <summary><c>mageflow_</c> and a hash of the source.</summary>
    internal static string LibraryName => Library.Name;

    /// <summary>The library's source, as FUNCTION LOAD takes it.</summary>
    internal static string LibrarySource => Library.Source;

    /// <summary>The function of <c>Backends/Redis/Scripts/{fileName}.lua</c>.</summary>
    public static RedisScript FromResource(string fileName) => new(fileName);

    /// <summary>
    /// Calls the function (as <see cref="RunAsync(IDatabaseAsync, ScriptArguments)"/> does). NoRedirect: a script must
    /// never run on a node that is importing the store's slot (an ASK redirect), where keys it learns while running may
    /// still be on the old node and would read as missing; the call waits for the move instead
    /// (<see cref="SlotMigration"/>).
    /// </summary>
    public Task<RedisResult> RunAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] values)
    {
        var arguments = Arguments(keys.Length, values.Length);
        foreach (var key in keys) arguments.Key(key);
        arguments.Values(values);
        return RunAsync(database, arguments);
    }

    /// <summary>A call's arguments, to be written in order: <paramref name="keys"/> keys, then <paramref name="values"/> values.</summary>
    public ScriptArguments Arguments(int keys, int values) => new(FunctionName, keys, values);

    /// <summary>Calls the function with the arguments written (<see cref="Arguments"/>).</summary>
    public async Task<RedisResult> RunAsync(IDatabaseAsync database, ScriptArguments arguments)
    {
        var sent = arguments.ToSend();
        var wait = SlotMigration.Wait.Start();
        var loadedJustNow = false;
        while (true)
        {
            try
            {
                return await database.ExecuteAsync("FCALL", sent, CommandFlags.NoRedirect).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (!loadedJustNow && ex.Message.Contains("Function not found", StringComparison.Ordinal))
            {
                await LoadLibraryAsync(database.Multiplexer).ConfigureAwait(false);
                loadedJustNow = true;
            }
            catch (RedisException ex) when (wait.Allows(ex))
            {
                await wait.PauseAsync().ConfigureAwait(false);
                loadedJustNow = false; // the slot may have moved to a node that lost the library
            }
        }
    }

    /// <summary>
    /// Loads the library on every primary of the connection: a Redis Cluster's nodes each keep their own functions,
    /// and a slot may move to any of them. One already there (same name, same source) is fine.
    /// </summary>
    public static Task LoadLibraryAsync(IConnectionMultiplexer connection) =>
        Task.WhenAll(connection.GetServers().Where(server => !server.IsReplica).Select(LoadLibraryAsync));

    private static async Task LoadLibraryAsync(IServer server)
    {
        try
        {
            await server.ExecuteAsync("FUNCTION", "LOAD", LibrarySource).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("already exists", StringComparison.Ordinal))
        {
            // Loaded by another client meanwhile: the name is a hash of the source, so it is this very library.
        }
    }

    /// <summary>
    /// The prelude and common helpers run once, at load; each script file becomes a function whose body is the
    /// file as written (it reads KEYS and ARGV, which are the function's parameters).
    /// </summary>
    private static (string Name, string Source) BuildLibrary()
    {
        var functions = new StringBuilder();
        foreach (var file in ScriptFileNames)
        {
            functions.Append(CultureInfo.InvariantCulture, $"\n-- {file}.lua\nredis.register_function('{{LIBRARY}}_{file}', function(KEYS, ARGV)\nrequire_stable_slot(KEYS)\n");
            functions.Append(ReadResource($"{ScriptResourcePrefix}{file}.lua"));
            functions.Append("\nend)\n");
        }
        var body = $"{Prelude}\n{Common}\n{functions}";
        var name = "mageflow_" + Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(body)))[..12];
        return (name, $"#!lua name={name}\n{body.Replace("{LIBRARY}", name, StringComparison.Ordinal)}");
    }

    private static string ReadResource(string resource)
    {
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"The embedded Lua script '{resource}' is missing from MageFlow.Runtime.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string BuildPrelude()
    {
        var constants = new (string Name, string Value)[]
        {
            ("PENDING", Status(SignatureStatus.Pending)),
            ("ACTIVE", Status(SignatureStatus.Active)),
            ("DONE", Status(SignatureStatus.Done)),
            ("FAILED", Status(SignatureStatus.Failed)),
            ("SUSPENDED", Status(SignatureStatus.Suspended)),
            ("INTERRUPTED", Status(SignatureStatus.Interrupted)),
            ("CANCELED", Status(SignatureStatus.Canceled)),
            ("KIND_MESSAGE", Kind(EnvelopeKind.Message)),
            ("KIND_RESULT", Kind(EnvelopeKind.Result)),
            ("KIND_ERROR_INPUT", Kind(EnvelopeKind.ErrorInput)),
            ("FAILURE_INVALID_INPUT", ((int)TaskFailureKind.InvalidInput).ToString(CultureInfo.InvariantCulture)),
            ("SIGNATURE_KEY_PART", RedisLayout.SignatureKeyPart),
            ("WORKFLOW_KEY_PART", RedisLayout.WorkflowKeyPart),
            ("SIGNATURE_CHAIN", ((int)SignatureKind.Chain).ToString(CultureInfo.InvariantCulture)),
            ("SIGNATURE_SWARM", ((int)SignatureKind.Swarm).ToString(CultureInfo.InvariantCulture)),
            ("CHAIN_TASK", ContainerNames.Chain),
            ("SWARM_TASK", ContainerNames.Swarm),
            ("F_KIND", RedisLayout.KindField),
            ("F_PARENT", RedisLayout.ParentField),
            ("F_CHILDREN", RedisLayout.ChildrenField),
            ("F_RECEIVES_SWARM", RedisLayout.ReceivesSwarmResultsField),
            ("F_SWARM_MAX_CONCURRENCY", RedisLayout.SwarmMaxConcurrencyField),
            ("F_SWARM_STOP_AFTER", RedisLayout.SwarmStopAfterField),
            ("F_SWARM_MAX_TASKS", RedisLayout.SwarmMaxTasksField),
            ("F_SWARM_CLOSE_ON_MAX", RedisLayout.SwarmCloseOnMaxField),
            ("F_SWARM_STARTED", RedisLayout.SwarmStartedField),
            ("F_SWARM_CLOSED", RedisLayout.SwarmClosedField),
            ("F_SWARM_MESSAGE", RedisLayout.SwarmMessageField),
            ("F_SWARM_ADDED", RedisLayout.SwarmAddedField),
            ("F_SWARM_RUNNING", RedisLayout.SwarmRunningField),
            ("F_SWARM_SUCCEEDED", RedisLayout.SwarmSucceededField),
            ("F_SWARM_FAILED", RedisLayout.SwarmFailedField),
            ("E_CONTAINER_KWARGS", RedisLayout.EntryContainerKwargs),
            ("E_OUTER_BASE", RedisLayout.EntryOuterBase),
            ("E_TRACE_PARENT", RedisLayout.EntryTraceParent),
            ("QUEUE_KEY_PART", RedisLayout.QueueKeyPart),
            ("F_TASK", RedisLayout.TaskNameField),
            ("F_MESSAGE_TYPE", RedisLayout.MessageTypeField),
            ("F_STATUS", RedisLayout.StatusField),
            ("F_LAST_STATUS", RedisLayout.LastStatusField),
            ("F_RETURN_FIELD", RedisLayout.ReturnFieldField),
            ("F_ATTEMPTS", RedisLayout.AttemptsField),
            ("F_CREATED", RedisLayout.CreatedField),
            ("F_SUCCESS_IDS", RedisLayout.SuccessIdsField),
            ("F_ERROR_IDS", RedisLayout.ErrorIdsField),
            ("F_KWARG_PREFIX", RedisLayout.KwargFieldPrefix),
            ("F_RUNNING_ENTRY", RedisLayout.RunningEntryField),
            ("F_STALLS", RedisLayout.StallsField),
            ("F_STARTED", RedisLayout.StartedField),
            ("F_FINISHED", RedisLayout.FinishedField),
            ("F_ERROR", RedisLayout.ErrorField),
            ("F_FAILED_INPUT", RedisLayout.FailedInputField),
            ("F_FAILURE_KIND", RedisLayout.FailureKindField),
            ("F_RESULT", RedisLayout.ResultField),
            ("F_AWAITED", RedisLayout.AwaitedField),
            ("F_PARKED", RedisLayout.ParkedField),
            ("F_PARKED_COUNT", RedisLayout.ParkedCountField),
            ("F_SAVED", RedisLayout.SavedField),
            ("F_SAVED_PAYLOAD", RedisLayout.SavedPayloadField),
            ("SAVED_DONE", RedisLayout.SavedDone),
            ("SAVED_FAILED", RedisLayout.SavedFailed),
            ("STOP_CHANNEL_PART", RedisLayout.StopChannelPart),
            ("FINISHED_CHANNEL_PART", RedisLayout.FinishedChannelPart),
            ("AWAITED_MINIMUM_MS", ((long)SignatureLifetimes.AwaitedMinimum.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
            ("E_SIGNATURE_ID", RedisLayout.EntrySignatureId),
            ("E_KIND", RedisLayout.EntryKind),
            ("E_PAYLOAD", RedisLayout.EntryPayload),
            ("E_FAILURE_SIGNATURE_ID", RedisLayout.EntryFailureSignatureId),
            ("E_FAILURE_TASK_NAME", RedisLayout.EntryFailureTaskName),
            ("E_FAILURE_ERROR", RedisLayout.EntryFailureError),
            ("E_FAILURE_KIND", RedisLayout.EntryFailureKind),
            ("PARTITION_SEPARATOR", RedisPartitions.Separator.ToString()),
            ("OUTBOX_KEY_PART", RedisLayout.OutboxKeyPart),
            ("O_OP", RedisLayout.OutboxOperation),
            ("O_TARGET", RedisLayout.OutboxTarget),
            ("O_ARGS", RedisLayout.OutboxArguments),
            ("O_ACTIVE", RedisLayout.OutboxActiveTtl),
            ("O_DONE", RedisLayout.OutboxDoneTtl),
            ("F_APPLIED_PREFIX", RedisLayout.AppliedFieldPrefix),
            ("F_CHILD_FINISHED_PREFIX", RedisLayout.ChildFinishedFieldPrefix),
            ("F_RELEASED", RedisLayout.ReleasedField),
            ("OP_KEEP", OutboxOperations.Keep),
            ("OP_PERSIST", OutboxOperations.Persist),
            ("OP_RELEASE", OutboxOperations.Release),
            ("OP_DISPATCH", OutboxOperations.Dispatch),
            ("OP_STEP", OutboxOperations.Step),
            ("OP_ITEM", OutboxOperations.Item),
            ("OP_CANCEL_WAITING", OutboxOperations.CancelWaiting),
            ("OP_CHILD_FINISHED", OutboxOperations.ChildFinished),
            ("OP_FINISH_CONTAINER", OutboxOperations.FinishContainer),
            ("OP_LIFECYCLE", OutboxOperations.Lifecycle),
        };
        var text = new StringBuilder("-- MageFlow constants, generated from the C# definitions (RedisScript.Prelude)\n");
        foreach (var (name, value) in constants) text.Append(CultureInfo.InvariantCulture, $"local {name} = '{value}'\n");
        return text.ToString();

        static string Status(SignatureStatus status) => ((int)status).ToString(CultureInfo.InvariantCulture);
        static string Kind(EnvelopeKind kind) => ((int)kind).ToString(CultureInfo.InvariantCulture);
    }
}
