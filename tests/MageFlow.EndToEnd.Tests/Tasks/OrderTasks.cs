namespace MageFlow.EndToEnd.Tests.Tasks;

public static class OrderTasks
{
    // Inside this class a task's name means the method, so its generated builder is named with global::.
    /// <summary>Orders whose id starts with this fail on every attempt.</summary>
    public const string FailingOrderPrefix = "fail-";

    [MageTask("process-order", Retries = 2)]
    public static async Task<OrderReceipt> ProcessOrder(OrderMessage message, CancellationToken ct)
    {
        TaskRecorder.Record(message.OrderId, global::MageFlow.EndToEnd.Tests.Tasks.ProcessOrder.TaskName, message);
        await Task.Yield();
        ct.ThrowIfCancellationRequested();
        if (message.OrderId.StartsWith(FailingOrderPrefix, StringComparison.Ordinal))
            throw new InvalidOperationException($"Payment declined for order {message.OrderId}.");
        return new OrderReceipt(message.OrderId, message.Amount);
    }

    [MageTask] // default name: send-confirmation
    public static Task SendConfirmation(ConfirmationMessage message)
    {
        TaskRecorder.Record(message.Receipt?.OrderId ?? "<no receipt>", global::MageFlow.EndToEnd.Tests.Tasks.SendConfirmation.TaskName, message);
        return Task.CompletedTask;
    }

    [MageTask]
    public static Task Audit(AuditMessage message)
    {
        TaskRecorder.Record(message.MageflowResults?.OrderId ?? "<no receipt>", global::MageFlow.EndToEnd.Tests.Tasks.Audit.TaskName, message);
        return Task.CompletedTask;
    }

    [MageTask]
    public static Task NotifyFailure(OrderFailedMessage message, TaskContext context)
    {
        TaskRecorder.Record(message.OrderId, global::MageFlow.EndToEnd.Tests.Tasks.NotifyFailure.TaskName, message, context.Failure?.TaskName);
        return Task.CompletedTask;
    }
}

