using System.ComponentModel;

namespace MageFlow;

/// <summary>
/// The bodies of the generated builders' <c>AsignAsync</c> methods, written once here so that each task emits only
/// its typed parameter list and the lines binding its members.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedSigning
{
    /// <summary>An empty kwargs set serialized with the options of <paramref name="mage"/>, which must not be null.</summary>
    public static KwargsBuilder NewKwargs(IMageFlow mage)
    {
        ArgumentNullException.ThrowIfNull(mage);
        return new KwargsBuilder(mage.JsonOptions);
    }

    /// <summary>
    /// Signs the task <paramref name="descriptor"/> describes with <paramref name="kwargs"/> and the callbacks, and wraps
    /// the stored signature in the builder's typed signature.
    /// </summary>
    public static async Task<TSignature> AsignAsync<TSignature>(
        IMageFlow mage,
        TaskDescriptor descriptor,
        KwargsBuilder kwargs,
        IEnumerable<TaskSignature>? successCallbacks,
        IEnumerable<TaskSignature>? errorCallbacks,
        Func<TaskSignature, TSignature> wrap,
        CancellationToken cancellationToken)
        where TSignature : TaskSignature
    {
        ArgumentNullException.ThrowIfNull(mage);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(wrap);
        var request = new SignatureRequest(descriptor.Name)
        {
            Kwargs = kwargs,
            SuccessCallbacks = successCallbacks,
            ErrorCallbacks = errorCallbacks,
            MessageType = descriptor.MessageType,
            ReturnField = descriptor.Options.ReturnField,
        };
        return wrap(await mage.AsignAsync(request, cancellationToken).ConfigureAwait(false));
    }
}

/// <summary>
/// Base of a generated typed signature (<c>LogOrder.Signature</c>) whose task returns nothing: typed kwargs and a
/// typed run-and-wait.
/// </summary>
/// <typeparam name="TMessage">The task's message type.</typeparam>
/// <typeparam name="TKwargs">The builder's typed kwargs (<c>LogOrder.KwargsBinder</c>).</typeparam>
public abstract class GeneratedSignature<TMessage, TKwargs> : TaskSignature<TMessage>
    where TKwargs : SignatureKwargs
{
    /// <summary>Wraps <paramref name="signature"/>, whose kwargs <paramref name="kwargs"/> gives typed access to.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected GeneratedSignature(TaskSignature signature, TKwargs kwargs)
        : base(signature)
    {
        ArgumentNullException.ThrowIfNull(kwargs);
        Kwargs = kwargs;
    }

    /// <summary>The kwargs bound to this signature, updatable member by member.</summary>
    public new TKwargs Kwargs { get; }

    /// <summary>
    /// Dispatches a run with <paramref name="message"/> and waits for this signature to finish.
    /// </summary>
    /// <exception cref="MageTaskFailedException">The task failed for good.</exception>
    /// <exception cref="OperationCanceledException">The signature was canceled, or <paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="TimeoutException">It did not finish within <paramref name="timeout"/>; the run goes on.</exception>
    public Task RunAndWaitAsync(TMessage message, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunAndWaitCoreAsync(message, timeout, cancellationToken);
}

/// <summary>
/// Base of a generated typed signature (<c>ProcessOrder.Signature</c>) whose task returns a
/// <typeparamref name="TResult"/>: typed kwargs and a typed run-and-wait.
/// </summary>
/// <typeparam name="TMessage">The task's message type.</typeparam>
/// <typeparam name="TKwargs">The builder's typed kwargs (<c>ProcessOrder.KwargsBinder</c>).</typeparam>
/// <typeparam name="TResult">The task's result type.</typeparam>
public abstract class GeneratedSignature<TMessage, TKwargs, TResult> : TaskSignature<TMessage>
    where TKwargs : SignatureKwargs
{
    /// <summary>Wraps <paramref name="signature"/>, whose kwargs <paramref name="kwargs"/> gives typed access to.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected GeneratedSignature(TaskSignature signature, TKwargs kwargs)
        : base(signature)
    {
        ArgumentNullException.ThrowIfNull(kwargs);
        Kwargs = kwargs;
    }

    /// <summary>The kwargs bound to this signature, updatable member by member.</summary>
    public new TKwargs Kwargs { get; }

    /// <summary>
    /// Dispatches a run with <paramref name="message"/>, waits for this signature to finish and returns its result.
    /// </summary>
    /// <exception cref="MageTaskFailedException">The task failed for good.</exception>
    /// <exception cref="OperationCanceledException">The signature was canceled, or <paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="TimeoutException">It did not finish within <paramref name="timeout"/>; the run goes on.</exception>
    public Task<TResult> RunAndWaitAsync(TMessage message, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunAndWaitCoreAsync<TMessage, TResult>(message, timeout, cancellationToken);
}
