using MageFlow.Backends;
using MageFlow.Composition;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MageFlow.Execution;

/// <summary>
/// Runs the body of one started run and classifies what happened (rule 20): succeeded, retry, failed, or
/// abandoned at shutdown. It changes no state; <see cref="OutcomeApplier"/> applies the decision. Errors outside
/// the body (composing the input, writing the result, the payload limit) fail the run at once: re-running the
/// body would repeat its side effects for nothing.
/// </summary>
internal sealed class RunExecutor(
    MageTaskRegistry registry,
    MageFlowOptions options,
    MageWorkerOptions worker,
    IServiceScopeFactory scopes,
    ILogger logger)
{
    /// <summary>
    /// Runs a started delivery. <paramref name="hardStop"/> fires at shutdown; <paramref name="run"/> fires then too, and
    /// when the signature is interrupted or canceled (rule 25): which one fired decides the outcome.
    /// </summary>
    public ValueTask<RunOutcome> RunAsync(Delivery delivery, StartedRun signature, CancellationToken hardStop, CancellationToken run)
    {
        var envelope = delivery.Envelope;
        if (!registry.TryGet(signature.TaskName, out var task))
            return ValueTask.FromResult<RunOutcome>(Fail(signature, FallbackInput(signature, envelope), TaskFailureKind.UnknownTask,
                $"No task named '{signature.TaskName}' is registered in this worker (queue '{delivery.TaskName}')."));

        ComposedInput input;
        try
        {
            input = ComposeInput(envelope, signature);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return ValueTask.FromResult<RunOutcome>(Fail(signature, FallbackInput(signature, envelope), TaskFailureKind.InvalidInput,
                $"Task '{signature.TaskName}': its input cannot be composed from the queued payload and the bound kwargs: {ex.Message}", ex));
        }

        if (signature.Stalls > worker.MaxStalls)
        {
            using (input)
            {
                return ValueTask.FromResult<RunOutcome>(Fail(signature, input.ToArray(), TaskFailureKind.Stalled,
                    $"Task '{signature.TaskName}': stalled {signature.Stalls} times (MageWorkerOptions.MaxStalls = {worker.MaxStalls}): each worker that took this run stopped answering before it finished (crashed, killed or hung), so it is treated as poison and not run again."));
            }
        }

        Log.RunStarted(logger, signature.Id, signature.TaskName, signature.Attempts, task.MaxAttempts);
        return InvokeAsync(task, signature, envelope, input, hardStop, run);
    }

    /// <summary>Runs the body on <paramref name="input"/>, which it disposes when the run is over (a failure keeps a copy).</summary>
    private async ValueTask<RunOutcome> InvokeAsync(TaskDescriptor task, StartedRun signature, Envelope envelope, ComposedInput input, CancellationToken hardStop, CancellationToken run)
    {
        using var runInput = input;
        if (Stopped(hardStop, run)) return new RunOutcome.Stopped(); // interrupted between start and here
        var context = new TaskContext(signature.Id, signature.TaskName, signature.Attempts, task.MaxAttempts, scopes, envelope.Failure);
        await using var end = new RunEnd(context);
        // A linked source only when the task has a time limit; otherwise the run's own token will do.
        using var timeLimit = task.Options.Timeout is { } timeout ? CancellationTokenSource.CreateLinkedTokenSource(run) : null;
        timeLimit?.CancelAfter(task.Options.Timeout!.Value);

        byte[] result;
        try
        {
            result = await task.InvokeAsync(input.Json, context, options.JsonOptions, timeLimit?.Token ?? run).ConfigureAwait(false);
        }
        catch (Exception) when (Stopped(hardStop, run))
        {
            // Whatever the body threw once it was told to stop, the stop decides: not an attempt, no callback.
            return new RunOutcome.Stopped();
        }
        catch (MessageDeserializationException ex)
        {
            return IsJson(input.Json.Span)
                ? Fail(signature, input.ToArray(), TaskFailureKind.InvalidInput, ex.Message, ex)
                : Fail(signature, input.ToArray(), TaskFailureKind.InvalidInput,
                    $"Task '{signature.TaskName}': the queued payload is not valid JSON: {ex.InnerException?.Message}", ex);
        }
        catch (ResultSerializationException ex)
        {
            return Fail(signature, input.ToArray(), TaskFailureKind.InvalidResult, ex.Message, ex);
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            return new RunOutcome.Abandoned();
        }
        catch (Exception ex)
        {
            var timedOut = ex is OperationCanceledException && timeLimit is { IsCancellationRequested: true };
            var error = timedOut ? $"Timed out after {task.Options.Timeout}." : ErrorOf(ex);
            if (ex is NonRetryableException || signature.Attempts >= task.MaxAttempts)
                return Fail(signature, input.ToArray(), timedOut ? TaskFailureKind.TimedOut : TaskFailureKind.Error, error, ex);
            return new RunOutcome.Retry(RetryDelay(task.Options.RetryDelay ?? worker.RetryDelay, signature.Attempts, worker.MaxRetryDelay), error, ex, task.MaxAttempts);
        }

        if (result.Length > options.MaxPayloadBytes)
            return Fail(signature, input.ToArray(), TaskFailureKind.InvalidResult,
                $"Task '{signature.TaskName}': its result is {result.Length:N0} bytes of UTF-8 JSON, over the limit of {options.MaxPayloadBytes:N0} bytes (MageFlowOptions.MaxPayloadBytes); results are copied into every success callback's queue entry.");
        return new RunOutcome.Succeeded(result);
    }

    /// <summary>Ends a run's context (its scope, if the run made one) when the run is over, however it ends.</summary>
    private readonly struct RunEnd(TaskContext context) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => context.EndAsync();
    }

    /// <summary>The run's token fired and it was not the shutdown: the signature was interrupted or canceled.</summary>
    private static bool Stopped(CancellationToken hardStop, CancellationToken run) => run.IsCancellationRequested && !hardStop.IsCancellationRequested;

    /// <summary>
    /// The delay before retrying after attempt <paramref name="attempt"/>: <paramref name="first"/> doubled per
    /// attempt, never more than <paramref name="max"/> — computed in floating point, so no attempt count overflows.
    /// </summary>
    internal static TimeSpan RetryDelay(TimeSpan first, int attempt, TimeSpan max)
    {
        var ticks = Math.Max(0, first.Ticks) * Math.Pow(2, Math.Clamp(attempt - 1, 0, 1023));
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The error text recorded when a body throws: its exception's type and message.</summary>
    internal static string ErrorOf(Exception exception) => $"{exception.GetType().Name}: {exception.Message}";

    /// <summary>
    /// A failure whose input becomes the base of every error callback's input: when it could not serve as one (not
    /// a JSON object, or strings that cannot be read), the callbacks get the bound kwargs instead, so they still run.
    /// </summary>
    internal static RunOutcome.Failed Fail(StartedRun signature, byte[] failedInput, TaskFailureKind kind, string error, Exception? exception = null) =>
        new(InputComposer.CanBeBase(failedInput) ? failedInput : KwargsOnlyInput(signature),
            new TaskFailure(signature.Id, signature.TaskName, error) { Kind = kind }, exception);

    /// <summary>
    /// The base of the input (rule 2): the message, the wrapped result, or the failed task's input; a swarm item's
    /// own message deep-merged over the swarm's message (rule 28).
    /// </summary>
    private static ReadOnlyMemory<byte> BaseOf(Envelope envelope, StartedRun signature)
    {
        ReadOnlyMemory<byte> own = envelope.Kind switch
        {
            EnvelopeKind.Result => InputComposer.WrapResult(signature.ReturnField, envelope.Payload.Span),
            _ => envelope.Payload,
        };
        return envelope.OuterBase.IsEmpty ? own : InputComposer.Compose(envelope.OuterBase, [], own);
    }

    /// <summary>
    /// The input a run receives (rule 2): its base deep-merged with the bound, container and call-time kwargs. The caller
    /// disposes it once the run is over.
    /// </summary>
    internal static ComposedInput ComposeInput(Envelope envelope, StartedRun signature) =>
        envelope.Kind == EnvelopeKind.Result && envelope.OuterBase.IsEmpty
            ? InputComposer.ComposeOverResult(signature.ReturnField, envelope.Payload, signature.Kwargs, envelope.CallTimeKwargs, envelope.ContainerKwargs)
            : InputComposer.ComposeForRun(BaseOf(envelope, signature), signature.Kwargs, envelope.CallTimeKwargs, envelope.ContainerKwargs);

    /// <summary>When the input cannot be composed, error callbacks still get the bound kwargs.</summary>
    internal static byte[] FallbackInput(StartedRun signature, Envelope envelope)
    {
        try
        {
            using var input = ComposeInput(envelope, signature);
            return input.ToArray();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return KwargsOnlyInput(signature);
        }
    }

    private static byte[] KwargsOnlyInput(StartedRun signature)
    {
        try { return InputComposer.Compose("{}"u8.ToArray(), signature.Kwargs, default); }
        catch (Exception ex) when (ex is not OperationCanceledException) { return "{}"u8.ToArray(); }
    }

    private static bool IsJson(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(utf8);
            while (reader.Read()) { }
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
