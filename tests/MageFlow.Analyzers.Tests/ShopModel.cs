namespace MageFlow.Analyzers.Tests;

/// <summary>The contract's example: messages, tasks and (until the generator runs in tests) their builders.</summary>
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

    public static readonly string[] Builders =
    [
        TaskBuilders.Builder("ProcessOrder", "process-order", "global::Shop.OrderMessage", "global::Shop.OrderReceipt", "mageflow_results", "string orderId", "decimal amount", "string? priority"),
        TaskBuilders.Builder("SendConfirmation", "send-confirmation", "global::Shop.ConfirmationMessage", null, "receipt", "string template"),
        TaskBuilders.Builder("Audit", "audit", "global::Shop.AuditMessage", null, "mageflow_results", "string source"),
        TaskBuilders.Builder("NotifyFailure", "notify-failure", "global::Shop.OrderFailedMessage", null, "mageflow_results", "string orderId", "decimal amount", "string? priority", "string channel"),
    ];

    /// <summary>The example's builders plus more for a test's own tasks.</summary>
    public static string[] BuildersWith(params string[] more) => [.. Builders, .. more];
}
