namespace MageFlow.Samples.Orders;

/// <summary>
/// The sample's tasks. An instance class: the worker resolves it (and its <see cref="Story"/>) from DI.
/// Each [MageTask] method becomes a generated builder class of the same name: ProcessOrder.AsignAsync(...).
/// </summary>
public sealed class OrderTasks(Story story, PaymentGateway gateway)
{
    /// <summary>How long pack-order takes when nothing stops it.</summary>
    public static readonly TimeSpan PackingTime = TimeSpan.FromSeconds(1.5);

    // Milestones pack-order reports, so the sample interrupts or cancels a body that is really running.
    public static string PackingStarted(string orderId) => $"packing {orderId} started";

    public static string PackingStopped(string orderId) => $"packing {orderId} stopped";

    [MageTask("process-order", Retries = 2, RetryDelayMilliseconds = 50)]
    public async Task<OrderReceipt> ProcessOrder(OrderMessage message, TaskContext context, CancellationToken cancellationToken)
    {
        story.Say("process-order", $"{message.OrderId}: charging {message.Amount:0.00} (priority {message.Priority ?? "none"}), attempt {context.Attempt} of {context.MaxAttempts}");
        var charged = await gateway.ChargeAsync(message.OrderId, message.Amount, cancellationToken);
        return new OrderReceipt(message.OrderId, charged);
    }

    /// <summary>Takes <see cref="PackingTime"/>, awaiting its token: long enough to interrupt or cancel while it runs.</summary>
    [MageTask]
    public async Task<PackingSlip> PackOrder(OrderMessage message, TaskContext context, CancellationToken cancellationToken)
    {
        story.Say("pack-order", $"{message.OrderId}: packing, attempt {context.Attempt} of {context.MaxAttempts}");
        story.Reached(PackingStarted(message.OrderId));
        try
        {
            await Task.Delay(PackingTime, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            story.Say("pack-order", $"{message.OrderId}: packing stopped, its CancellationToken fired");
            story.Reached(PackingStopped(message.OrderId));
            throw;
        }
        story.Say("pack-order", $"{message.OrderId}: packed");
        return new PackingSlip(message.OrderId, Parcels: 1);
    }

    [MageTask]
    public Task SendConfirmation(ConfirmationMessage message)
    {
        story.Arrived("send-confirmation", $"template '{message.Template}', receipt {Describe(message.Receipt)}");
        return Task.CompletedTask;
    }

    [MageTask]
    public Task Audit(AuditMessage message)
    {
        story.Arrived("audit", $"source '{message.Source}', mageflow_results {Describe(message.MageflowResults)}");
        return Task.CompletedTask;
    }

    [MageTask]
    public Task NotifyFailure(OrderFailedMessage message, TaskContext context)
    {
        story.Arrived("notify-failure", $"order {message.OrderId} ({message.Amount:0.00}, priority {message.Priority ?? "none"}) via '{message.Channel}' because: {context.Failure?.Error}");
        return Task.CompletedTask;
    }

    // ---- the chain's steps (scene 11): each returns what the next step's [ReturnValue] member holds ----

    [MageTask]
    public ValidatedOrder ValidateOrder(OrderMessage message)
    {
        // Retrying cannot make a bad order valid: fail at once.
        if (message.Amount <= 0) throw new NonRetryableException($"order {message.OrderId}: amount {message.Amount:0.00} is not positive");
        story.Say("validate-order", $"{message.OrderId}: {message.Amount:0.00} is a valid amount");
        return new ValidatedOrder(message.OrderId, message.Amount);
    }

    [MageTask(Retries = 2, RetryDelayMilliseconds = 50)]
    public async Task<OrderReceipt> ChargeOrder(ChargeMessage message, CancellationToken cancellationToken)
    {
        story.Say("charge-order", $"{message.Order.OrderId}: charging {message.Order.Amount:0.00}");
        var charged = await gateway.ChargeAsync(message.Order.OrderId, message.Order.Amount, cancellationToken);
        return new OrderReceipt(message.Order.OrderId, charged);
    }

    [MageTask]
    public Shipment ShipOrder(ShipMessage message)
    {
        var shipment = new Shipment(message.Receipt.OrderId, message.Carrier, $"{message.Carrier}-{message.Receipt.OrderId}");
        story.Say("ship-order", $"{message.Receipt.OrderId}: charged {message.Receipt.Charged:0.00}, handed to {message.Carrier}");
        return shipment;
    }

    [MageTask]
    public Task ConfirmShipment(ShipmentConfirmationMessage message)
    {
        story.Arrived("confirm-shipment", $"template '{message.Template}', {message.Shipment.OrderId} shipped with {message.Shipment.Carrier}, tracking {message.Shipment.TrackingNumber}");
        return Task.CompletedTask;
    }

    // ---- the swarm's success callback (scene 12) ----

    [MageTask]
    public Task SummarizeBatch(BatchSummaryMessage message)
    {
        var outcomes = message.Outcomes.Items;
        foreach (var outcome in outcomes)
            story.Say("summarize-batch", outcome.Succeeded ? Describe(outcome.Result) : $"item {outcome.SignatureId} failed: {outcome.Error}");
        var charged = outcomes.Where(o => o.Succeeded).Sum(o => o.Result!.Charged);
        story.Arrived("summarize-batch", $"batch '{message.Batch}': {outcomes.Count(o => o.Succeeded)} of {outcomes.Count} orders charged, {charged:0.00} in total");
        return Task.CompletedTask;
    }

    private static string Describe(OrderReceipt? receipt) => receipt is null ? "(none)" : $"{receipt.OrderId} charged {receipt.Charged:0.00}";
}

/// <summary>A pretend payment gateway that declines one card and remembers how many charges it served at once.</summary>
public sealed class PaymentGateway
{
    public const string DeclinedOrder = "o-2-declined";

    // Long enough that charges started together overlap, so a concurrency limit shows in MostAtOnce.
    private static readonly TimeSpan RoundTrip = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private int _inFlight;
    private int _mostAtOnce;

    /// <summary>The most charges in flight at the same moment so far.</summary>
    public int MostAtOnce
    {
        get { lock (_gate) return _mostAtOnce; }
    }

    public async Task<decimal> ChargeAsync(string orderId, decimal amount, CancellationToken cancellationToken)
    {
        lock (_gate) _mostAtOnce = Math.Max(_mostAtOnce, ++_inFlight);
        try
        {
            await Task.Delay(RoundTrip, cancellationToken);
            return orderId == DeclinedOrder ? throw new InvalidOperationException($"card declined for {orderId}") : amount;
        }
        finally
        {
            lock (_gate) _inFlight--;
        }
    }
}
