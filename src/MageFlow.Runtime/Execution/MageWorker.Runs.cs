using MageFlow.Backends;

namespace MageFlow.Execution;

/// <summary>Running what the worker takes: a run loop per slot, each run started, run and its outcome applied.</summary>
internal sealed partial class MageWorker
{
    /// <summary>
    /// Starts a run in an idle run loop (<see cref="RunSlot"/>), or in a new one while fewer loops exist than runs in
    /// flight; the caller holds one slot for it. A new loop starts on the thread pool without the caller's execution
    /// context (a run's trace comes from its entry), on this thread's local queue, as Task.Run does: on the global
    /// queue a run waited behind other work (the in-memory backend's finish → callback p50 went from 0.015 to 0.4 ms).
    /// </summary>
    private void Launch(TakenEntry taken)
    {
        if (_held.Find(taken.Entry.Key) is { } held) held.Running = true;
        RunSlot? slot;
        lock (_idleRunSlots)
        {
            _idleRunSlots.TryPop(out slot);
        }
        if (slot is null)
        {
            slot = new RunSlot();
            Interlocked.Increment(ref _runLoops);
            ThreadPool.UnsafeQueueUserWorkItem(static start => _ = start.Worker.RunSlotLoopAsync(start.Slot), (Worker: this, Slot: slot), preferLocal: true);
        }
        slot.Hand(taken);
    }

    /// <summary>
    /// A run loop: runs each entry handed to it in the slot taken for it (start unless the read started it, body,
    /// outcome); a run its completion took (<see cref="FinishOutcome.Next"/>) runs next in the same slot, otherwise the
    /// loop goes idle and frees the slot. The run's steps are in this method, not in one it calls per run, so that a
    /// run that waits allocates no state machine of its own.
    /// </summary>
    private async Task RunSlotLoopAsync(RunSlot slot)
    {
        while ((await slot.NextAsync().ConfigureAwait(false)) is { Entry: not null } taken)
        {
            while (true)
            {
                var entry = taken.Entry;
                // The completion's outcome: the run it took for this run's slot (Next) runs in the slot instead of freeing it.
                FinishOutcome? finished = null;
                var offeredAt = 0L;
                try
                {
                    if (await StartOrDropAsync(taken).ConfigureAwait(false) is { } signature)
                    {
                        // Only a delivery is started.
                        var delivery = (Delivery)entry;
                        var id = delivery.Envelope.SignatureId;
                        var run = _held.Find(delivery.Key)?.Token ?? _hardStop.Token;
                        // The run's span covers the body and the transition that records its outcome, so the callbacks, chain
                        // steps and swarm items that transition queues carry this span as their parent (Envelope.TraceParent).
                        using var activity = MageFlowTelemetry.StartRun(signature.TaskName, id, signature.Attempts, delivery.Envelope.TraceParent);
                        var task = new KeyValuePair<string, object?>("mageflow.task", signature.TaskName);
                        MageFlowTelemetry.RecordQueueWait(signature.TaskName, delivery.QueuedAt, _time.GetUtcNow());
                        MageFlowTelemetry.RunsStarted.Add(1, task);
                        MageFlowTelemetry.RunsInFlight.Add(1, task);
                        var runStartedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                        try
                        {
                            var outcome = await _executor.RunAsync(delivery, signature, _hardStop.Token, run).ConfigureAwait(false);
                            if (outcome is RunOutcome.Succeeded succeeded)
                            {
                                // Awaited here, in the loop's state machine: a completion awaited in a method of its own
                                // allocated one per run.
                                offeredAt = _time.GetTimestamp();
                                var firstTriedAt = _time.GetUtcNow();
                                FinishOutcome? completed = null;
                                Exception? completionFailure = null;
                                try
                                {
                                    completed = await _applier.SendCompletion(delivery, succeeded, OfferedSlot()).ConfigureAwait(false);
                                }
                                catch (Exception ex)
                                {
                                    completionFailure = ex;
                                }
                                finished = await _applier.CompletedAsync(completed, completionFailure, firstTriedAt, delivery, signature, succeeded).ConfigureAwait(false);
                            }
                            else
                            {
                                await _applier.ApplyAsync(delivery, signature, outcome).ConfigureAwait(false);
                            }
                            MageFlowTelemetry.RecordOutcome(activity, signature.TaskName, outcome.Label, runStartedAt);
                        }
                        finally
                        {
                            MageFlowTelemetry.RunsInFlight.Add(-1, task);
                        }
                    }
                }
                catch (Exception ex)
                {
                    Log.TransitionError(_logger, ex, (entry as Delivery)?.Envelope.SignatureId ?? "?", entry.TaskName);
                }
                _held.Remove(entry.Key)?.Dispose();
                if (finished?.Next is not { } next) break;
                // Held and running at once: the slot is the one this run held, no launch in between.
                Hold(next.Entry, _time.GetTimestamp()).Running = true;
                if (!_recentStops.IsEmpty) StopRunsStoppedSince([next], offeredAt);
                taken = next;
            }
            lock (_idleRunSlots)
            {
                _idleRunSlots.Push(slot);
            }
            // Idle before the slot is free: whoever takes the slot finds this loop to run in.
            _slots.Release();
        }
    }

    /// <summary>
    /// The start of a taken entry: made by the read or the completion that took it, else made here. Returns the run when
    /// it is to go on; an entry that is not to run (malformed, missing, not runnable, parked, corrupt) is logged and,
    /// where the backend left it, acknowledged — and null is returned.
    /// </summary>
    private async ValueTask<StartedRun?> StartOrDropAsync(TakenEntry taken)
    {
        // Transitions get no cancellation token: each is one atomic step that must not be abandoned half-way.
        var none = CancellationToken.None;
        if (taken.Entry is not Delivery delivery)
        {
            var malformed = (MalformedEntry)taken.Entry;
            Log.MalformedEntry(_logger, malformed.EntryId, malformed.TaskName, malformed.Reason);
            await _backend.AcknowledgeAsync(malformed, none).ConfigureAwait(false);
            return null;
        }
        var id = delivery.Envelope.SignatureId;
        var start = taken.Started;
        var unreadable = taken.StartUnreadable?.Message;
        if (start is null && unreadable is null)
        {
            try
            {
                start = await _backend.StartAsync(delivery, _options.ActiveTtl, none).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                unreadable = ex.Message;
            }
        }
        if (start is null)
        {
            // The stored signature cannot be read: running it is impossible, and trying again would loop.
            Log.RunDroppedCorrupt(_logger, id, delivery.TaskName, unreadable!);
            await _backend.AcknowledgeAsync(new MalformedEntry(delivery.TaskName, delivery.EntryId, unreadable!) { Partition = delivery.Partition }, none).ConfigureAwait(false);
            return null;
        }
        switch (start.Result)
        {
            case StartResult.Missing:
                Log.RunDroppedMissing(_logger, id, delivery.TaskName);
                return null;
            case StartResult.NotRunnable:
                Log.RunSkippedNotRunnable(_logger, id, delivery.TaskName, start.FoundStatus);
                return null;
            case StartResult.Corrupt:
                Log.RunDroppedCorrupt(_logger, id, delivery.TaskName, start.Problem ?? "unknown");
                return null;
            case StartResult.Parked:
                Log.RunParked(_logger, id, delivery.TaskName, start.FoundStatus);
                return null;
            default:
                return start.Run;
        }
    }
}
