using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using MageFlow.Backends;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace MageFlow.Execution;

/// <summary>
/// Applies a run's outcome as one backend transition (rule 20): a transition that fails on the network is
/// tried again with backoff — each one is safe to repeat (a repeated finish finds the signature finished and
/// dispatches nothing) — instead of leaving the body to run again after the visibility timeout.
/// </summary>
internal sealed class OutcomeApplier(IMageBackend backend, MageFlowOptions options, MageWorkerOptions worker, ILogger logger, TimeProvider time)
{
    private SignatureLifetimes Lifetimes => new(options.ActiveTtl, options.DoneTtl);

    /// <summary>
    /// Applies <paramref name="outcome"/>, other than a success (<see cref="SendCompletion"/>). Each outcome has its own
    /// method, so a run's state machine holds only what its transition needs; each transition's first attempt is awaited
    /// there, and only a transient failure goes on to <see cref="RetryAsync"/>.
    /// </summary>
    public ValueTask ApplyAsync(Delivery delivery, StartedRun signature, RunOutcome outcome) => outcome switch
    {
        RunOutcome.Failed failed => FailAsync(delivery, signature, failed),
        RunOutcome.Retry retry => RetryLaterAsync(delivery, signature, retry),
        RunOutcome.Stopped => ParkAsync(delivery, signature),
        RunOutcome.Abandoned => ReleaseAsync(delivery, signature),
        _ => throw new System.Diagnostics.UnreachableException($"No transition for the outcome {outcome.GetType().Name}."),
    };

    /// <summary>
    /// A success's completion, in two steps so that the common path has no state machine of its own (it was ~0.4 KB per
    /// pair of runs, docs/redis-v2-design.md §16): this sends the first attempt, the caller awaits it (once: it may be
    /// pooled) and hands what came of it to <see cref="CompletedAsync"/>. The completion may also take the next run for
    /// the slot the run frees, when <paramref name="offer"/> says the worker offers it (<see cref="IMageBackend.CompleteAndTakeAsync"/>).
    /// </summary>
    public ValueTask<FinishOutcome> SendCompletion(Delivery delivery, RunOutcome.Succeeded done, SlotOffer? offer) =>
        backend.CompleteAndTakeAsync(delivery, done.Result, Lifetimes, offer, CancellationToken.None);

    /// <summary>
    /// The completion once its first attempt (sent at <paramref name="firstTriedAt"/>) has ended with
    /// <paramref name="completed"/> or <paramref name="failure"/>: logged when it succeeded; tried again when it failed
    /// transiently — a retry takes nothing: what a failed attempt may have taken is not known, and it is taken over in
    /// time; thrown otherwise. Its <see cref="FinishOutcome.Next"/> is for the caller to run in the slot.
    /// </summary>
    public ValueTask<FinishOutcome> CompletedAsync(FinishOutcome? completed, Exception? failure, DateTimeOffset firstTriedAt, Delivery delivery, StartedRun signature, RunOutcome.Succeeded done)
    {
        if (failure is null) return new(LogCompleted(signature, completed!));
        if (IsTransient(failure)) return RetryCompletionAsync(failure, firstTriedAt, delivery, signature, done);
        ExceptionDispatchInfo.Throw(failure);
        throw new System.Diagnostics.UnreachableException();
    }

    private async ValueTask<FinishOutcome> RetryCompletionAsync(Exception failure, DateTimeOffset firstTriedAt, Delivery delivery, StartedRun signature, RunOutcome.Succeeded done)
    {
        var completed = await RetryAsync(failure, firstTriedAt, (backend, delivery, done.Result, Lifetimes),
            static ((IMageBackend Backend, Delivery Delivery, ReadOnlyMemory<byte> Result, SignatureLifetimes Lifetimes) s) =>
                s.Backend.CompleteAsync(s.Delivery, s.Result, s.Lifetimes, CancellationToken.None)).ConfigureAwait(false);
        return LogCompleted(signature, completed);
    }

    private FinishOutcome LogCompleted(StartedRun signature, FinishOutcome completed)
    {
        if (Applied(signature, completed))
            Log.RunDone(logger, signature.Id, signature.TaskName, signature.SuccessCallbacks - completed.MissingCallbackIds.Count);
        return completed;
    }

    private async ValueTask FailAsync(Delivery delivery, StartedRun signature, RunOutcome.Failed failed)
    {
        var firstTriedAt = time.GetUtcNow();
        var failing = (backend, delivery, failed, Lifetimes);
        var fail = static ((IMageBackend Backend, Delivery Delivery, RunOutcome.Failed Failed, SignatureLifetimes Lifetimes) s) =>
            s.Backend.FailAsync(s.Delivery, s.Failed.FailedInput, s.Failed.Failure, s.Lifetimes, CancellationToken.None);
        FinishOutcome failure;
        try
        {
            failure = await fail(failing).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            failure = await RetryAsync(ex, firstTriedAt, failing, fail).ConfigureAwait(false);
        }
        if (Applied(signature, failure))
            Log.RunFailed(logger, failed.Exception, signature.Id, signature.TaskName, signature.Attempts, failed.Failure.Kind, failed.Failure.Error,
                signature.ErrorCallbacks - failure.MissingCallbackIds.Count);
    }

    private async ValueTask RetryLaterAsync(Delivery delivery, StartedRun signature, RunOutcome.Retry retry)
    {
        var firstTriedAt = time.GetUtcNow();
        Log.RunRetrying(logger, retry.Exception, signature.Id, signature.TaskName, signature.Attempts, retry.MaxAttempts, retry.Delay, retry.Error);
        var retrying = (backend, delivery, time, retry.Delay, options.ActiveTtl);
        var retryLater = static async ((IMageBackend Backend, Delivery Delivery, TimeProvider Time, TimeSpan Delay, TimeSpan ActiveTtl) s) =>
        {
            await s.Backend.RetryLaterAsync(s.Delivery, s.Time.GetUtcNow() + s.Delay, s.ActiveTtl, CancellationToken.None).ConfigureAwait(false);
            return true;
        };
        try
        {
            await retryLater(retrying).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            await RetryAsync(ex, firstTriedAt, retrying, retryLater).ConfigureAwait(false);
        }
    }

    private async ValueTask ParkAsync(Delivery delivery, StartedRun signature)
    {
        var firstTriedAt = time.GetUtcNow();
        var parking = (backend, delivery);
        var park = static async ((IMageBackend Backend, Delivery Delivery) s) =>
        {
            await s.Backend.ParkAsync(s.Delivery, CancellationToken.None).ConfigureAwait(false);
            return true;
        };
        try
        {
            await park(parking).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            await RetryAsync(ex, firstTriedAt, parking, park).ConfigureAwait(false);
        }
        Log.RunStopped(logger, signature.Id, signature.TaskName);
    }

    private async ValueTask ReleaseAsync(Delivery delivery, StartedRun signature)
    {
        // Best effort: if this fails too, the entry is reclaimed after the visibility timeout all the same.
        await backend.ReleaseAsync(delivery, worker.ConsumerName, CancellationToken.None).ConfigureAwait(false);
        Log.LeftForReclaim(logger, signature.Id, signature.TaskName);
    }

    /// <summary>
    /// Tries a transition again after its first attempt (at <paramref name="firstTriedAt"/>) failed transiently with
    /// <paramref name="failure"/>, with backoff, until it succeeds, a non-transient error occurs, or half the visibility
    /// timeout has passed since the first attempt (after that another worker may take the run over anyway; the last
    /// error is thrown). The transition takes its arguments as <paramref name="state"/>: no closure.
    /// </summary>
    private async Task<T> RetryAsync<TState, T>(Exception failure, DateTimeOffset firstTriedAt, TState state, Func<TState, Task<T>> transition)
    {
        var giveUpAt = firstTriedAt + worker.VisibilityTimeout / 2;
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            if (time.GetUtcNow() + delay >= giveUpAt) ExceptionDispatchInfo.Throw(failure);
            Log.TransitionRetrying(logger, failure, attempt, delay);
            await Task.Delay(delay, time).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            try
            {
                return await transition(state).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                failure = ex;
            }
        }
    }

    /// <summary>Errors of the connection or of a server that is starting or busy: the same call may succeed later.</summary>
    internal static bool IsTransient(Exception ex) => ex switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutException or SocketException or IOException => true,
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
                                       || server.Message.StartsWith("BUSY", StringComparison.Ordinal)
                                       || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>
    /// What a finishing transition did, logged: false when it was not applied (a duplicate run, or the outcome saved on a
    /// paused signature); when applied, the callbacks that no longer existed are reported.
    /// </summary>
    private bool Applied(StartedRun signature, FinishOutcome outcome)
    {
        if (!outcome.Applied)
        {
            if (outcome.Saved) Log.OutcomeSaved(logger, signature.Id, signature.TaskName);
            else Log.DuplicateFinish(logger, signature.Id, signature.TaskName);
            return false;
        }
        if (outcome.MissingCallbackIds.Count > 0)
            Log.MissingCallbacks(logger, signature.Id, signature.TaskName, string.Join(", ", outcome.MissingCallbackIds));
        return true;
    }
}
