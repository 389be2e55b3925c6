using System.Collections.Concurrent;
using MageFlow.Backends;
using MageFlow.Composition;
using MageFlow.Signatures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MageFlow.Execution;

/// <summary>
/// The engine shared by every backend: reads batches, runs tasks with bounded concurrency, composes inputs
/// (rule 2), decides retry or failure (rules 9, 11) and asks the backend for each atomic transition.
/// On shutdown it stops reading, lets runs finish within the host's shutdown timeout, and leaves runs that
/// did not finish unacknowledged so another worker reclaims them: nothing is half-applied.
/// </summary>
internal sealed class MageWorker : BackgroundService
{
    private readonly IMageBackend _backend;
    private readonly MageTaskRegistry _registry;
    private readonly MageFlowOptions _options;
    private readonly MageWorkerOptions _worker;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _hardStop = new();
    private readonly ConcurrentDictionary<Delivery, long> _inFlight = new(ReferenceEqualityComparer.Instance);
    private readonly string[] _taskNames;

    public MageWorker(
        IMageBackend backend,
        MageTaskRegistry registry,
        MageFlowOptions options,
        IOptions<MageWorkerOptions> workerOptions,
        IServiceScopeFactory scopes,
        ILogger<MageWorker> logger)
    {
        _backend = backend;
        _registry = registry;
        _options = options;
        _worker = workerOptions.Value;
        _scopes = scopes;
        _logger = logger;
        _time = TimeProvider.System;
        _slots = new SemaphoreSlim(_worker.Concurrency, _worker.Concurrency);
        var served = _registry.Tasks.Select(t => t.Name);
        if (_worker.Tasks is { } only)
        {
            var unknown = only.Where(name => !_registry.TryGet(name, out _)).ToArray();
            if (unknown.Length > 0)
                throw new InvalidOperationException($"MageWorkerOptions.Tasks names tasks this application does not register: {string.Join(", ", unknown)}.");
            served = only;
        }
        _taskNames = served.Distinct().OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Runs in flight right now (for tests and diagnostics).</summary>
    internal int InFlightCount => _inFlight.Count;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var definitions = _registry.Tasks
            .Select(t => new TaskDefinition(t.Name, t.MessageTypeId, t.Options.ReturnField, t.Options.Retries))
            .ToArray();
        await _backend.RegisterTaskDefinitionsAsync(definitions, cancellationToken).ConfigureAwait(false);
        await _backend.PrepareQueuesAsync(_taskNames, cancellationToken).ConfigureAwait(false);
        Log.WorkerStarted(_logger, _worker.ConsumerName, _taskNames.Length, _options.BackendName, _worker.Concurrency);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // When the host's shutdown timeout runs out, cancel the runs still going; they are left for reclaim.
        await using var registration = cancellationToken.Register(() => _hardStop.Cancel()).ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _hardStop.Dispose();
        _slots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_taskNames.Length == 0) return;
        await Task.Yield();
        var loops = new[]
        {
            RunLoopAsync(ReadOnceAsync, TimeSpan.Zero, stoppingToken),
            RunLoopAsync(ReclaimOnceAsync, ReclaimInterval, stoppingToken),
            RunLoopAsync(PromoteOnceAsync, PromoteInterval, stoppingToken),
            RunLoopAsync(KeepAliveOnceAsync, KeepAliveInterval, stoppingToken),
        };
        await Task.WhenAll(loops).ConfigureAwait(false);

        // Stopped reading: wait for the runs in flight (the host bounds this wait with its shutdown timeout).
        while (!_inFlight.IsEmpty) await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
    }

    private TimeSpan ReclaimInterval => Clamp(_worker.VisibilityTimeout / 2);

    private TimeSpan KeepAliveInterval => Clamp(_worker.VisibilityTimeout / 3);

    private TimeSpan PromoteInterval => Clamp(TimeSpan.FromTicks(Math.Min(_worker.RetryDelay.Ticks / 2, TimeSpan.FromMilliseconds(250).Ticks)));

    private static TimeSpan Clamp(TimeSpan interval) => interval < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : interval;

    private async Task RunLoopAsync(Func<CancellationToken, Task> once, TimeSpan interval, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (interval > TimeSpan.Zero) await Task.Delay(interval, _time, stoppingToken).ConfigureAwait(false);
                await once(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.WorkerLoopError(_logger, ex);
                try { await Task.Delay(TimeSpan.FromMilliseconds(200), _time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task ReadOnceAsync(CancellationToken stoppingToken)
    {
        await _slots.WaitAsync(stoppingToken).ConfigureAwait(false);
        var free = Math.Min(_slots.CurrentCount + 1, _worker.BatchSize);
        IReadOnlyList<Delivery> batch;
        try
        {
            batch = await _backend.ReadAsync(_taskNames, _worker.ConsumerName, free, _worker.ReadWait, stoppingToken).ConfigureAwait(false);
        }
        catch
        {
            _slots.Release();
            throw;
        }
        if (batch.Count == 0)
        {
            _slots.Release();
            return;
        }
        // One slot is held already; only this loop and the reclaim loop take slots, so these waits are short.
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0) await _slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            Launch(batch[i]);
        }
    }

    private async Task ReclaimOnceAsync(CancellationToken stoppingToken)
    {
        var reclaimed = await _backend.ReclaimAsync(_taskNames, _worker.ConsumerName, _worker.VisibilityTimeout, _worker.BatchSize, stoppingToken).ConfigureAwait(false);
        if (reclaimed.Count == 0) return;
        Log.Reclaimed(_logger, reclaimed.Count);
        foreach (var delivery in reclaimed)
        {
            await _slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            Launch(delivery);
        }
    }

    private Task PromoteOnceAsync(CancellationToken stoppingToken) =>
        _backend.PromoteDueRetriesAsync(_time.GetUtcNow(), _worker.BatchSize * 4, stoppingToken);

    private Task KeepAliveOnceAsync(CancellationToken stoppingToken)
    {
        var staleBefore = _time.GetTimestamp() - (long)(KeepAliveInterval.TotalSeconds * _time.TimestampFrequency);
        var stale = _inFlight.Where(pair => pair.Value <= staleBefore).Select(pair => pair.Key).ToArray();
        return stale.Length == 0 ? Task.CompletedTask : _backend.KeepAliveAsync(stale, _worker.ConsumerName, stoppingToken);
    }

    /// <summary>Starts a run on the thread pool; the caller holds one slot for it.</summary>
    private void Launch(Delivery delivery)
    {
        _inFlight[delivery] = _time.GetTimestamp();
        _ = Task.Run(async () =>
        {
            try
            {
                await ProcessAsync(delivery).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.TransitionError(_logger, ex, delivery.Envelope?.SignatureId ?? "?", delivery.TaskName);
            }
            finally
            {
                _inFlight.TryRemove(delivery, out _);
                _slots.Release();
            }
        });
    }

    internal async Task ProcessAsync(Delivery delivery)
    {
        // Transitions get no cancellation token: each is one atomic step that must not be abandoned half-way.
        var none = CancellationToken.None;
        if (delivery.Envelope is not { } envelope)
        {
            Log.MalformedEntry(_logger, delivery.EntryId, delivery.TaskName, delivery.Malformed ?? "unreadable entry");
            await _backend.AcknowledgeAsync(delivery, none).ConfigureAwait(false);
            return;
        }

        var start = await _backend.StartAsync(delivery, none).ConfigureAwait(false);
        switch (start.Result)
        {
            case StartResult.Missing:
                Log.RunDroppedMissing(_logger, envelope.SignatureId, delivery.TaskName);
                return;
            case StartResult.NotRunnable:
                Log.RunSkippedNotRunnable(_logger, envelope.SignatureId, delivery.TaskName, start.Signature!.Status);
                return;
        }
        var signature = start.Signature!;

        if (!_registry.TryGet(signature.TaskName, out var task))
        {
            await FailAsync(delivery, signature, FallbackInput(signature, envelope), 1,
                $"No task named '{signature.TaskName}' is registered in this worker (queue '{delivery.TaskName}').", null).ConfigureAwait(false);
            return;
        }

        byte[] input;
        try
        {
            input = InputComposer.Compose(BaseOf(envelope, signature), signature.Kwargs, envelope.CallTimeKwargs);
        }
        catch (System.Text.Json.JsonException ex)
        {
            await FailAsync(delivery, signature, FallbackInput(signature, envelope), task.MaxAttempts,
                $"Task '{signature.TaskName}': the queued payload or a bound kwarg is not valid JSON: {ex.Message}", ex).ConfigureAwait(false);
            return;
        }

        Log.RunStarted(_logger, signature.Id, signature.TaskName, signature.Attempts, task.MaxAttempts);
        using var activity = MageFlowTelemetry.StartRun(signature.TaskName, signature.Id, signature.Attempts);
        MageFlowTelemetry.RunsStarted.Add(1, new KeyValuePair<string, object?>("mageflow.task", signature.TaskName));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var scope = _scopes.CreateAsyncScope();
        var context = new TaskContext(signature.Id, signature.TaskName, signature.Attempts, task.MaxAttempts, scope.ServiceProvider, envelope.Failure);
        // A linked source only when the task has a time limit; otherwise the shutdown token alone will do.
        using var timeLimit = task.Options.Timeout is { } timeout ? CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token) : null;
        timeLimit?.CancelAfter(task.Options.Timeout!.Value);
        var attemptToken = timeLimit?.Token ?? _hardStop.Token;

        byte[] result;
        try
        {
            result = await task.InvokeAsync(input, context, _options.JsonOptions, attemptToken).ConfigureAwait(false);
        }
        catch (MessageDeserializationException ex)
        {
            MageFlowTelemetry.RecordOutcome(activity, signature.TaskName, "failed", started);
            // Error callbacks compose their input from this one, so it must at least be JSON.
            if (!IsJson(input))
            {
                await FailAsync(delivery, signature, KwargsOnlyInput(signature), signature.Attempts,
                    $"Task '{signature.TaskName}': the queued payload is not valid JSON: {ex.InnerException?.Message}", ex).ConfigureAwait(false);
                return;
            }
            await FailAsync(delivery, signature, input, signature.Attempts, ex.Message, ex).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (_hardStop.IsCancellationRequested)
        {
            MageFlowTelemetry.RecordOutcome(activity, signature.TaskName, "abandoned", started);
            Log.LeftForReclaim(_logger, signature.Id, signature.TaskName);
            return;
        }
        catch (Exception ex)
        {
            var error = ex is OperationCanceledException && timeLimit is { IsCancellationRequested: true } && task.Options.Timeout is { } limit
                ? $"Timed out after {limit}."
                : $"{ex.GetType().Name}: {ex.Message}";
            if (ex is NonRetryableException || signature.Attempts >= task.MaxAttempts)
            {
                MageFlowTelemetry.RecordOutcome(activity, signature.TaskName, "failed", started);
                await FailAsync(delivery, signature, input, signature.Attempts, error, ex).ConfigureAwait(false);
                return;
            }
            MageFlowTelemetry.RecordOutcome(activity, signature.TaskName, "retried", started);
            var delay = RetryDelay(task, signature.Attempts);
            Log.RunRetrying(_logger, ex, signature.Id, signature.TaskName, signature.Attempts, task.MaxAttempts, delay, error);
            await _backend.RetryLaterAsync(delivery, _time.GetUtcNow() + delay, none).ConfigureAwait(false);
            return;
        }

        MageFlowTelemetry.RecordOutcome(activity, signature.TaskName, "done", started);
        var outcome = await _backend.CompleteAsync(delivery, result, _options.DoneTtl, none).ConfigureAwait(false);
        if (!outcome.Applied)
        {
            Log.DuplicateFinish(_logger, signature.Id, signature.TaskName);
            return;
        }
        ReportMissing(signature, outcome);
        Log.RunDone(_logger, signature.Id, signature.TaskName, signature.SuccessCallbackIds.Count - outcome.MissingCallbackIds.Count);
    }

    private async Task FailAsync(Delivery delivery, SignatureRecord signature, byte[] failedInput, int attempt, string error, Exception? exception)
    {
        var failure = new TaskFailure(signature.Id, signature.TaskName, error);
        var outcome = await _backend.FailAsync(delivery, failedInput, failure, _options.DoneTtl, CancellationToken.None).ConfigureAwait(false);
        if (!outcome.Applied)
        {
            Log.DuplicateFinish(_logger, signature.Id, signature.TaskName);
            return;
        }
        ReportMissing(signature, outcome);
        Log.RunFailed(_logger, exception, signature.Id, signature.TaskName, attempt, error, signature.ErrorCallbackIds.Count - outcome.MissingCallbackIds.Count);
    }

    private void ReportMissing(SignatureRecord signature, FinishOutcome outcome)
    {
        if (outcome.MissingCallbackIds.Count > 0)
            Log.MissingCallbacks(_logger, signature.Id, signature.TaskName, string.Join(", ", outcome.MissingCallbackIds));
    }

    private TimeSpan RetryDelay(TaskDescriptor task, int attempt)
    {
        var first = task.Options.RetryDelay ?? _worker.RetryDelay;
        var delay = first * Math.Pow(2, Math.Max(0, attempt - 1));
        return delay > _worker.MaxRetryDelay ? _worker.MaxRetryDelay : delay;
    }

    /// <summary>The base of the input (rule 2): the message, the wrapped result, or the failed task's input.</summary>
    private static ReadOnlyMemory<byte> BaseOf(Envelope envelope, SignatureRecord signature) => envelope.Kind switch
    {
        EnvelopeKind.Result => InputComposer.WrapResult(signature.ReturnField, envelope.Payload.Span),
        _ => envelope.Payload,
    };

    /// <summary>When the input cannot be composed, error callbacks still get the bound kwargs.</summary>
    private static byte[] FallbackInput(SignatureRecord signature, Envelope envelope)
    {
        try
        {
            return InputComposer.Compose(BaseOf(envelope, signature), signature.Kwargs, envelope.CallTimeKwargs);
        }
        catch (System.Text.Json.JsonException)
        {
            return KwargsOnlyInput(signature);
        }
    }

    private static byte[] KwargsOnlyInput(SignatureRecord signature)
    {
        try { return InputComposer.Compose("{}"u8.ToArray(), signature.Kwargs, default); }
        catch (System.Text.Json.JsonException) { return "{}"u8.ToArray(); }
    }

    private static bool IsJson(byte[] utf8)
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
