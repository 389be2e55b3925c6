namespace MageFlow;

/// <summary>
/// The ambient client: once a host with <c>AddMageFlow</c> has started, <see cref="Default"/> is its client and
/// the builder overloads without an <see cref="IMageFlow"/> argument use it.
/// </summary>
public static class Mage
{
    private static IMageFlow? _default;

    /// <summary>The client of the most recently started host.</summary>
    public static IMageFlow Default => Volatile.Read(ref _default) ?? throw new InvalidOperationException(
        "No MageFlow client is configured. Add one with services.AddMageFlow(o => o.UseInMemory()) or " +
        "services.AddMageFlow(o => o.UseRedis(\"127.0.0.1:6379\")) and start the host (await host.StartAsync()) " +
        "before signing, or pass an IMageFlow explicitly: AsignAsync(mage, ...).");

    /// <summary>Whether a default client is set.</summary>
    public static bool HasDefault => Volatile.Read(ref _default) is not null;

    /// <inheritdoc cref="IMageFlow.AsignAsync(string, object?, IEnumerable{TaskSignature}?, IEnumerable{TaskSignature}?, CancellationToken)"/>
    public static Task<TaskSignature> AsignAsync(
        string taskName,
        object? kwargs = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        CancellationToken cancellationToken = default) =>
        Default.AsignAsync(taskName, kwargs, successCallbacks, errorCallbacks, cancellationToken);

    /// <inheritdoc cref="IMageFlow.AsignAsync{TMessage}"/>
    public static Task<TaskSignature<TMessage>> AsignAsync<TMessage>(
        string taskName,
        object? kwargs = null,
        IEnumerable<TaskSignature>? successCallbacks = null,
        IEnumerable<TaskSignature>? errorCallbacks = null,
        CancellationToken cancellationToken = default) =>
        Default.AsignAsync<TMessage>(taskName, kwargs, successCallbacks, errorCallbacks, cancellationToken);

    internal static void SetDefault(IMageFlow client) => Volatile.Write(ref _default, client);

    internal static void ClearDefault(IMageFlow client) => Interlocked.CompareExchange(ref _default, null, client);
}
