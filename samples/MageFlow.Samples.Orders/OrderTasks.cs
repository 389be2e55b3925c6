using MageFlow;

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

    private static string Describe(OrderReceipt? receipt) => receipt is null ? "(none)" : $"{receipt.OrderId} charged {receipt.Charged:0.00}";
}

/// <summary>A pretend payment gateway that declines one card.</summary>
public sealed class PaymentGateway
{
    public const string DeclinedOrder = "o-2-declined";

    public Task<decimal> ChargeAsync(string orderId, decimal amount, CancellationToken cancellationToken) =>
        orderId == DeclinedOrder
            ? throw new InvalidOperationException($"card declined for {orderId}")
            : Task.FromResult(amount);
}
