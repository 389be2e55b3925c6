using System.Net.Sockets;
using MageFlow.Backends;
using MageFlow.Signatures;
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

    public async ValueTask ApplyAsync(Delivery delivery, SignatureRecord signature, RunOutcome outcome)
    {
        switch (outcome)
        {
            case RunOutcome.Succeeded done:
                var completed = await WithRetriesAsync((backend, delivery, done.Result, Lifetimes),
                    static state => state.backend.CompleteAsync(state.delivery, state.Result, state.Lifetimes, CancellationToken.None)).ConfigureAwait(false);
                if (!completed.Applied)
                {
                    NotApplied(signature, completed);
                    return;
                }
                ReportMissing(signature, completed);
                Log.RunDone(logger, signature.Id, signature.TaskName, signature.SuccessCallbackIds.Count - completed.MissingCallbackIds.Count);
                return;

            case RunOutcome.Failed failed:
                var failure = await WithRetriesAsync((backend, delivery, failed, Lifetimes),
                    static state => state.backend.FailAsync(state.delivery, state.failed.FailedInput, state.failed.Failure, state.Lifetimes, CancellationToken.None)).ConfigureAwait(false);
                if (!failure.Applied)
                {
                    NotApplied(signature, failure);
                    return;
                }
                ReportMissing(signature, failure);
                Log.RunFailed(logger, failed.Exception, signature.Id, signature.TaskName, signature.Attempts, failed.Failure.Kind, failed.Failure.Error,
                    signature.ErrorCallbackIds.Count - failure.MissingCallbackIds.Count);
                return;

            case RunOutcome.Retry retry:
                Log.RunRetrying(logger, retry.Exception, signature.Id, signature.TaskName, signature.Attempts, retry.MaxAttempts, retry.Delay, retry.Error);
                await WithRetriesAsync((backend, delivery, time, retry.Delay, options.ActiveTtl), static async state =>
                {
                    await state.backend.RetryLaterAsync(state.delivery, state.time.GetUtcNow() + state.Delay, state.ActiveTtl, CancellationToken.None).ConfigureAwait(false);
                    return true;
                }).ConfigureAwait(false);
                return;

            case RunOutcome.Stopped:
                await WithRetriesAsync((backend, delivery), static async state =>
                {
                    await state.backend.ParkAsync(state.delivery, CancellationToken.None).ConfigureAwait(false);
                    return true;
                }).ConfigureAwait(false);
                Log.RunStopped(logger, signature.Id, signature.TaskName);
                return;

            case RunOutcome.Abandoned:
                // Best effort: if this fails too, the entry is reclaimed after the visibility timeout all the same.
                await backend.ReleaseAsync(delivery, worker.ConsumerName, CancellationToken.None).ConfigureAwait(false);
                Log.LeftForReclaim(logger, signature.Id, signature.TaskName);
                return;
        }
    }

    /// <summary>
    /// Tries a transition until it succeeds, a non-transient error occurs, or half the visibility timeout has
    /// passed (after that another worker may take the run over anyway). The transition takes its arguments as
    /// <paramref name="state"/>, so the common path allocates no closure.
    /// </summary>
    private async ValueTask<T> WithRetriesAsync<TState, T>(TState state, Func<TState, Task<T>> transition)
    {
        var giveUpAt = time.GetUtcNow() + worker.VisibilityTimeout / 2;
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await transition(state).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex) && time.GetUtcNow() + delay < giveUpAt)
            {
                Log.TransitionRetrying(logger, ex, attempt, delay);
                await Task.Delay(delay, time).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
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

    private void NotApplied(SignatureRecord signature, FinishOutcome outcome)
    {
        if (outcome.Saved) Log.OutcomeSaved(logger, signature.Id, signature.TaskName);
        else Log.DuplicateFinish(logger, signature.Id, signature.TaskName);
    }

    private void ReportMissing(SignatureRecord signature, FinishOutcome outcome)
    {
        if (outcome.MissingCallbackIds.Count > 0)
            Log.MissingCallbacks(logger, signature.Id, signature.TaskName, string.Join(", ", outcome.MissingCallbackIds));
    }
}
