using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MageFlow.Signatures;
using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// One embedded Lua script, run by its SHA1 (EVALSHA) so each call sends only the hash. When the server's
/// script cache was emptied (restart, failover, SCRIPT FLUSH) the call is repeated once with EVAL, which also
/// caches it again; NOSCRIPT means the script did not run, so repeating it is safe.
/// Every script is sent as <see cref="Prelude"/> + <c>includes/common.lua</c> + its own file, so statuses, kinds,
/// key parts and field names have one definition (the C# one) and helpers are written once.
/// </summary>
internal sealed class RedisScript
{
    private static readonly string Common = ReadResource("MageFlow.Redis.includes.common.lua");

    private RedisScript(string name, string source)
    {
        Name = name;
        Source = source;
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(source));
    }

    public string Name { get; }

    public string Source { get; }

    public byte[] Hash { get; }

    /// <summary>The constants the scripts use, generated from <see cref="SignatureStatus"/>, <see cref="EnvelopeKind"/> and <see cref="RedisLayout"/>.</summary>
    internal static string Prelude { get; } = BuildPrelude();

    /// <summary>Loads <c>Backends/Redis/Scripts/{fileName}.lua</c> from this assembly's resources.</summary>
    public static RedisScript FromResource(string fileName) =>
        new(fileName, $"{Prelude}\n{Common}\n-- {fileName}.lua\n{ReadResource($"MageFlow.Redis.{fileName}.lua")}");

    public async Task<RedisResult> RunAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await database.ScriptEvaluateAsync(Hash, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // A plain EVAL (not the library's string overload, which may itself choose EVALSHA from a stale cache).
            var arguments = new List<object>(2 + keys.Length + values.Length) { Source, keys.Length };
            foreach (var key in keys) arguments.Add(key);
            foreach (var value in values) arguments.Add(value);
            return await database.ExecuteAsync("EVAL", arguments).ConfigureAwait(false);
        }
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
        };
        var text = new StringBuilder("-- MageFlow constants, generated from the C# definitions (RedisScript.Prelude)\n");
        foreach (var (name, value) in constants) text.Append(CultureInfo.InvariantCulture, $"local {name} = '{value}'\n");
        return text.ToString();

        static string Status(SignatureStatus status) => ((int)status).ToString(CultureInfo.InvariantCulture);
        static string Kind(EnvelopeKind kind) => ((int)kind).ToString(CultureInfo.InvariantCulture);
    }
}
