namespace MageFlow.Analyzers.Tests;

/// <summary>The contract's example: messages and tasks (the generator attached to each test emits their builders).</summary>
internal static class ShopModel
{
    public const string Header = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        """;

    /// <summary>Messages and task methods of the contract's example.</summary>
    public const string Declarations = Header + """
        public record OrderMessage(string OrderId, decimal Amount, string? Priority = null);
        public sealed record OrderReceipt(string OrderId, decimal Charged);
        public sealed record ConfirmationMessage([property: ReturnValue] OrderReceipt? Receipt, string Template);
        public sealed record AuditMessage(OrderReceipt? MageflowResults, string Source);
        public record OrderFailedMessage(string OrderId, decimal Amount, string? Priority, string Channel)
            : OrderMessage(OrderId, Amount, Priority);

        public static class OrderTasks
        {
            [MageTask("process-order", Retries = 2)]
            public static Task<OrderReceipt> ProcessOrder(OrderMessage message, CancellationToken ct) => Task.FromResult(new OrderReceipt(message.OrderId, message.Amount));

            [MageTask] public static Task SendConfirmation(ConfirmationMessage message) => Task.CompletedTask;
            [MageTask] public static Task Audit(AuditMessage message) => Task.CompletedTask;
            [MageTask] public static Task NotifyFailure(OrderFailedMessage message) => Task.CompletedTask;
        }

        """;
}
