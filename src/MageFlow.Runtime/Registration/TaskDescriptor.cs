using System.Text.Json;

namespace MageFlow;

/// <summary>Runs one attempt of a task: the typed body the generator binds to the user's method.</summary>
public delegate ValueTask<TResult> MageTaskHandler<TMessage, TResult>(TMessage message, TaskContext context, CancellationToken cancellationToken);

/// <summary>Runs one attempt of a task that returns nothing.</summary>
public delegate ValueTask MageTaskHandler<TMessage>(TMessage message, TaskContext context, CancellationToken cancellationToken);

/// <summary>The body of a task returned, but its result cannot be written as JSON (NaN, a cycle, an unsupported type).</summary>
internal sealed class ResultSerializationException(string taskName, Type resultType, Exception inner)
    : Exception($"Task '{taskName}': its result of type {resultType.FullName} cannot be serialized as JSON: {inner.Message}", inner);

/// <summary>Options of a task as declared on <see cref="MageTaskAttribute"/>.</summary>
public sealed record TaskOptions
{
    /// <summary>N retries = up to N + 1 attempts.</summary>
    public int Retries { get; init; }

    /// <summary>Per-attempt time limit; null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Delay before the first retry (doubled each time); null for the worker default.</summary>
    public TimeSpan? RetryDelay { get; init; }

    /// <summary>
    /// Wire name of the message member that receives a finished task's result when this task is a success
    /// callback: the <see cref="ReturnValueAttribute"/> member, else <see cref="MageJson.FallbackReturnField"/>.
    /// </summary>
    public string ReturnField { get; init; } = MageJson.FallbackReturnField;
}

/// <summary>
/// Everything a worker needs to run a task without reflection: its name, message and result types, options,
/// and typed delegates for (de)serialization and invocation. The generator emits one per <c>[MageTask]</c>;
/// tasks can also be described by hand with <see cref="Create{TMessage,TResult}"/>.
/// </summary>
public abstract class TaskDescriptor
{
    private protected TaskDescriptor(string name, Type messageType, Type? resultType, TaskOptions options)
    {
        TaskNames.ThrowIfInvalid(name, nameof(name));
        if (options.Retries < 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"Task '{name}': Retries must be 0 or more, got {options.Retries}.");
        Name = name;
        MessageType = messageType;
        ResultType = resultType;
        Options = options;
    }

    /// <summary>The task's name, unique across a deployment.</summary>
    public string Name { get; }

    /// <summary>The type the input is deserialized into.</summary>
    public Type MessageType { get; }

    /// <summary>Null when the task returns nothing (its callbacks receive null).</summary>
    public Type? ResultType { get; }

    /// <summary>Retries, time limit, retry delay and return field.</summary>
    public TaskOptions Options { get; }

    /// <summary>The id stored on signatures to name the message type (rule 15: looked up, never loaded).</summary>
    public string MessageTypeId => MessageType.FullName ?? MessageType.Name;

    /// <summary>Retries + 1.</summary>
    public int MaxAttempts => Options.Retries + 1;

    /// <summary>Describes a task that returns a value.</summary>
    public static TaskDescriptor Create<TMessage, TResult>(string name, MageTaskHandler<TMessage, TResult> handler, TaskOptions? options = null) =>
        new TypedTaskDescriptor<TMessage, TResult>(name, handler, options ?? new TaskOptions());

    /// <summary>Describes a task that returns nothing: its success callbacks receive null.</summary>
    public static TaskDescriptor Create<TMessage>(string name, MageTaskHandler<TMessage> handler, TaskOptions? options = null) =>
        new TypedTaskDescriptor<TMessage, NoResult>(
            name,
            async (message, context, ct) =>
            {
                await handler(message, context, ct).ConfigureAwait(false);
                return default;
            },
            options ?? new TaskOptions(),
            hasResult: false);

    /// <summary>
    /// Deserializes <paramref name="input"/> into the message type (throwing <see cref="MessageDeserializationException"/>
    /// with the member and types when it does not fit), runs one attempt and returns the result as JSON (throwing
    /// <see cref="ResultSerializationException"/> when the result cannot be written: the body is not to run again).
    /// </summary>
    internal abstract ValueTask<byte[]> InvokeAsync(ReadOnlyMemory<byte> input, TaskContext context, JsonSerializerOptions json, CancellationToken cancellationToken);

    private readonly struct NoResult;

    private sealed class TypedTaskDescriptor<TMessage, TResult>(string name, MageTaskHandler<TMessage, TResult> handler, TaskOptions options, bool hasResult = true)
        : TaskDescriptor(name, typeof(TMessage), hasResult ? typeof(TResult) : null, options)
    {
        private static readonly byte[] Null = "null"u8.ToArray();

        internal override async ValueTask<byte[]> InvokeAsync(ReadOnlyMemory<byte> input, TaskContext context, JsonSerializerOptions json, CancellationToken cancellationToken)
        {
            var message = Deserialize(input, json);
            var result = await handler(message, context, cancellationToken).ConfigureAwait(false);
            if (!hasResult) return Null;
            try
            {
                return JsonSerializer.SerializeToUtf8Bytes(result, json.TypeInfo<TResult>());
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                throw new ResultSerializationException(Name, typeof(TResult), ex);
            }
        }

        private TMessage Deserialize(ReadOnlyMemory<byte> input, JsonSerializerOptions json)
        {
            try
            {
                var message = JsonSerializer.Deserialize(input.Span, json.TypeInfo<TMessage>());
                return message ?? throw new JsonException($"The input is JSON null, but {typeof(TMessage).FullName} requires an object.");
            }
            catch (JsonException ex)
            {
                throw MessageDeserializationException.From(Name, typeof(TMessage), input, ex, json);
            }
            catch (NotSupportedException ex)
            {
                throw MessageDeserializationException.From(Name, typeof(TMessage), input, new JsonException(ex.Message, ex), json);
            }
        }
    }
}
