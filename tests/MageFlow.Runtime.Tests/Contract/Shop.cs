using MageFlow.Runtime.Tests.Infrastructure;

namespace MageFlow.Runtime.Tests.Contract;

/// <summary>
/// Hand-registered tasks, described exactly as generated code describes them (TaskDescriptor.Create), each
/// recording what it received. Behaviour knobs per order id: "fail-*" always throws, "flaky-*" fails on the
/// first attempt, "fatal-*" throws NonRetryableException, "slow-*" waits for cancellation, "sleep-*" takes
/// <see cref="SleepPerRun"/>, "big-*" returns a receipt three times the size of its id, "gate-*" waits at its
/// gate until the test opens it (<see cref="Gates"/>).
/// </summary>
internal sealed class Shop
{
    public const string ProcessOrder = "process-order";
    public const string SendConfirmation = "send-confirmation";
    public const string Audit = "audit";
    public const string NotifyFailure = "notify-failure";
    public const string Touch = "touch";
    public const string Describe = "describe";
    public const string Note = "note";
    public const string Measure = "measure";
    public const string Ship = "ship";
    public const string Summarize = "summarize";
    public const string SummarizeOutcomes = "summarize-outcomes";
    public const string SummarizeMeasures = "summarize-measures";

    public Recorder Recorder { get; } = new();

    public Gates Gates { get; } = new();

    private int _running;
    private int _mostRunning;

    /// <summary>The most process-order bodies that ran at the same time in this process.</summary>
    public int MostRunning => Volatile.Read(ref _mostRunning);

    public int ProcessOrderRetries { get; init; } = 2;

    public TimeSpan? ProcessOrderTimeout { get; init; }

    /// <summary>How long a "sleep-*" order (process-order or touch) takes.</summary>
    public TimeSpan SleepPerRun { get; init; } = TimeSpan.FromMilliseconds(200);

    private Task SleepIfAskedAsync(string orderId, CancellationToken ct) =>
        orderId.StartsWith("sleep-", StringComparison.Ordinal) ? Task.Delay(SleepPerRun, ct) : Task.CompletedTask;

    public IEnumerable<TaskDescriptor> Tasks()
    {
        yield return TaskDescriptor.Create<OrderMessage, OrderReceipt>(ProcessOrder, async (message, context, ct) =>
        {
            Recorder.Add(ProcessOrder, message, context);
            var running = Interlocked.Increment(ref _running);
            try
            {
                int most;
                while (running > (most = Volatile.Read(ref _mostRunning)) && Interlocked.CompareExchange(ref _mostRunning, running, most) != most) { }
                return await ProcessAsync(message, context, ct);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }, new TaskOptions { Retries = ProcessOrderRetries, Timeout = ProcessOrderTimeout });

        // ships a receipt: the second step of a chain
        yield return TaskDescriptor.Create<ShipMessage, string>(Ship, (message, context, _) =>
        {
            Recorder.Add(Ship, message, context);
            if (message.Receipt is null) throw new NonRetryableException("nothing to ship: no receipt");
            return ValueTask.FromResult($"track-{message.Receipt.OrderId}-{message.Carrier ?? "post"}");
        }, new TaskOptions { ReturnField = "receipt" });

        yield return TaskDescriptor.Create<SummaryMessage>(Summarize, (message, context, _) =>
        {
            Recorder.Add(Summarize, message, context);
            return ValueTask.CompletedTask;
        }, new TaskOptions { ReturnField = "receipts" });

        yield return TaskDescriptor.Create<MeasuresMessage>(SummarizeMeasures, (message, context, _) =>
        {
            Recorder.Add(SummarizeMeasures, message, context);
            return ValueTask.CompletedTask;
        }, new TaskOptions { ReturnField = "outcomes" });

        yield return TaskDescriptor.Create<OutcomesMessage>(SummarizeOutcomes, (message, context, _) =>
        {
            Recorder.Add(SummarizeOutcomes, message, context);
            return ValueTask.CompletedTask;
        }, new TaskOptions { ReturnField = "outcomes" });


        yield return TaskDescriptor.Create<ConfirmationMessage>(SendConfirmation, (message, context, _) =>
        {
            Recorder.Add(SendConfirmation, message, context);
            return ValueTask.CompletedTask;
        }, new TaskOptions { ReturnField = "receipt" });

        yield return TaskDescriptor.Create<AuditMessage>(Audit, (message, context, _) =>
        {
            Recorder.Add(Audit, message, context);
            return ValueTask.CompletedTask;
        });

        yield return TaskDescriptor.Create<OrderFailedMessage>(NotifyFailure, (message, context, _) =>
        {
            Recorder.Add(NotifyFailure, message, context);
            return ValueTask.CompletedTask;
        });

        // returns nothing: its success callbacks get null
        yield return TaskDescriptor.Create<OrderMessage>(Touch, async (message, context, ct) =>
        {
            Recorder.Add(Touch, message, context);
            await SleepIfAskedAsync(message.OrderId, ct);
        });

        // returns NaN for a negative amount: a result JSON cannot hold (rule 20)
        yield return TaskDescriptor.Create<OrderMessage, double>(Measure, (message, context, _) =>
        {
            Recorder.Add(Measure, message, context);
            return ValueTask.FromResult(message.Amount < 0 ? double.NaN : (double)message.Amount);
        }, new TaskOptions { Retries = 2 });

        // returns a string: wiring it to send-confirmation (which wants an OrderReceipt) is a type mismatch
        yield return TaskDescriptor.Create<OrderMessage, string>(Describe, (message, context, _) =>
        {
            Recorder.Add(Describe, message, context);
            return ValueTask.FromResult($"order {message.OrderId}");
        });

        yield return TaskDescriptor.Create<NoteMessage>(Note, (message, context, _) =>
        {
            Recorder.Add(Note, message, context);
            return ValueTask.CompletedTask;
        });
    }

    private async ValueTask<OrderReceipt> ProcessAsync(OrderMessage message, TaskContext context, CancellationToken ct)
    {
        var id = message.OrderId;
        if (id.StartsWith("fail-", StringComparison.Ordinal)) throw new InvalidOperationException($"card declined for {id}");
        if (id.StartsWith("flaky-", StringComparison.Ordinal) && context.Attempt == 1) throw new TimeoutException("gateway timeout");
        if (id.StartsWith("fatal-", StringComparison.Ordinal)) throw new NonRetryableException($"order {id} is invalid");
        if (id.StartsWith("slow-", StringComparison.Ordinal)) await Task.Delay(Timeout.Infinite, ct);
        if (id.StartsWith("gate-", StringComparison.Ordinal)) await Gates.PassAsync(id, ct);
        await SleepIfAskedAsync(id, ct);
        if (id.StartsWith("big-", StringComparison.Ordinal)) return new OrderReceipt(string.Concat(id, id, id), message.Amount);
        return new OrderReceipt(id, message.Amount);
    }

    public void Register(MageFlowOptions options)
    {
        foreach (var task in Tasks()) options.AddTask(task);
    }
}
