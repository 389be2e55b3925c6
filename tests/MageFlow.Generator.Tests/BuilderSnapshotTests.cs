using MageFlow.Generator.Tests.Infrastructure;

namespace MageFlow.Generator.Tests;

/// <summary>
/// The builder emitted for each supported task shape. Every test also checks that the output compiles
/// without warnings and that a re-run is fully cached (see <see cref="GeneratorAssert.Generates(string[], string, string)"/>).
/// </summary>
public sealed class BuilderSnapshotTests
{
    private const string Messages = """
        namespace Shop
        {
            public sealed record OrderMessage(string OrderId, decimal Amount);
            public sealed record OrderReceipt(string OrderId, decimal Charged);
        }
        """;

    [Fact]
    public void Static_task() => GeneratorAssert.Generates([Messages, """
        using System.Threading;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static Task<OrderReceipt> ProcessOrder(OrderMessage message, CancellationToken cancellationToken) =>
                Task.FromResult(new OrderReceipt(message.OrderId, message.Amount));
        }
        """]);

    [Fact]
    public void Instance_task_on_class_resolved_from_DI() => GeneratorAssert.Generates([Messages, """
        using System.Threading;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public interface IPaymentGateway
        {
            Task<decimal> ChargeAsync(string orderId, decimal amount, CancellationToken cancellationToken);
        }

        public sealed class Billing(IPaymentGateway gateway)
        {
            [MageTask]
            public async Task<OrderReceipt> Charge(OrderMessage message, CancellationToken cancellationToken) =>
                new(message.OrderId, await gateway.ChargeAsync(message.OrderId, message.Amount, cancellationToken));
        }
        """]);

    [Fact]
    public void Returns_void() => GeneratorAssert.Generates([Messages, """
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static void LogOrder(OrderMessage message) => System.Console.WriteLine(message.OrderId);
        }
        """]);

    [Fact]
    public void Returns_value() => GeneratorAssert.Generates([Messages, """
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static OrderReceipt PriceOrder(OrderMessage message) => new(message.OrderId, message.Amount);
        }
        """]);

    [Fact]
    public void Returns_Task() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static Task ShipOrder(OrderMessage message) => Task.CompletedTask;
        }
        """]);

    [Fact]
    public void Returns_Task_of_value() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static Task<int> CountItems(OrderMessage message) => Task.FromResult(message.OrderId.Length);
        }
        """]);

    [Fact]
    public void Returns_ValueTask() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static ValueTask ArchiveOrder(OrderMessage message) => ValueTask.CompletedTask;
        }
        """]);

    [Fact]
    public void Returns_ValueTask_of_value() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static ValueTask<OrderReceipt> RefundOrder(OrderMessage message) =>
                ValueTask.FromResult(new OrderReceipt(message.OrderId, -message.Amount));
        }
        """]);

    [Fact]
    public void Task_without_parameters() => GeneratorAssert.Generates("""
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class Maintenance
        {
            [MageTask]
            public static Task PurgeExpiredCarts() => Task.CompletedTask;
        }
        """);

    [Fact]
    public void CancellationToken_and_TaskContext_in_any_order() => GeneratorAssert.Generates([Messages, """
        using System.Threading;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static Task MessageTokenContext(OrderMessage message, CancellationToken cancellationToken, TaskContext context) => Task.CompletedTask;

            [MageTask]
            public static Task ContextMessageToken(TaskContext context, OrderMessage message, CancellationToken cancellationToken) => Task.CompletedTask;

            [MageTask]
            public static Task TokenContextOnly(CancellationToken cancellationToken, TaskContext context) => Task.CompletedTask;

            [MageTask]
            public static Task ContextOnly(TaskContext context) => Task.CompletedTask;
        }
        """]);

    [Fact]
    public void Record_with_positional_ReturnValue_property() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed record ConfirmationMessage([property: ReturnValue] OrderReceipt? Receipt, string Template);

        public static class Notifications
        {
            [MageTask]
            public static Task SendConfirmation(ConfirmationMessage message) => Task.CompletedTask;
        }
        """]);

    [Fact]
    public void Class_with_init_properties_and_ReturnValue_property() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed class InvoiceMessage
        {
            public required string Customer { get; init; }

            public int CopyCount { get; init; } = 1;

            [ReturnValue]
            public OrderReceipt? Receipt { get; init; }

            // Not settable: never a kwarg.
            public string Title => $"Invoice for {Customer}";
        }

        public static class Invoices
        {
            [MageTask]
            public static Task SendInvoice(InvoiceMessage message) => Task.CompletedTask;
        }
        """]);

    [Fact]
    public void Field_with_ReturnValue() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed class LedgerMessage
        {
            public string Account { get; set; } = "";

            [ReturnValue]
            public OrderReceipt? Receipt;
        }

        public static class Ledger
        {
            [MageTask]
            public static Task Book(LedgerMessage message) => Task.CompletedTask;
        }
        """]);

    [Fact]
    public void Message_with_MageflowResults_fallback() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed record AuditMessage(OrderReceipt? MageflowResults, string Source);

        public static class Auditing
        {
            [MageTask]
            public static Task Audit(AuditMessage message) => Task.CompletedTask;
        }
        """]);

    [Fact]
    public void Nullable_members() => GeneratorAssert.Generates("""
        using System;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed record DeliveryMessage(
            string Address,
            string? Instructions,
            int? Floor,
            DateTimeOffset? NotBefore,
            Uri? TrackingPage);

        public static class Deliveries
        {
            [MageTask]
            public static Task ScheduleDelivery(DeliveryMessage message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public void Generic_message_members() => GeneratorAssert.Generates("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed record LineItem(string Sku, int Quantity);

        public sealed record BasketMessage(
            List<LineItem> Items,
            Dictionary<string, decimal> PricesBySku,
            IReadOnlyDictionary<string, List<string?>>? TagsBySku,
            KeyValuePair<string, int>[] Counters);

        public static class Baskets
        {
            [MageTask]
            public static Task<Dictionary<string, int>> CountBasket(BasketMessage message) => Task.FromResult(new Dictionary<string, int>());
        }
        """);

    [Fact]
    public void Task_in_nested_containing_types() => GeneratorAssert.Generates("""
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class Warehouse
        {
            public sealed record RestockMessage(string Sku, int Quantity);

            public static class Inventory
            {
                [MageTask]
                public static Task Restock(RestockMessage message) => Task.CompletedTask;
            }
        }
        """);

    [Fact]
    public void Task_in_global_namespace() => GeneratorAssert.Generates("""
        using System.Threading.Tasks;
        using MageFlow;

        public sealed record PingMessage(string Text);

        public static class GlobalTasks
        {
            [MageTask]
            public static Task<string> Ping(PingMessage message) => Task.FromResult(message.Text);
        }
        """);

    [Fact]
    public void Same_method_name_in_two_namespaces() => GeneratorAssert.Generates("""
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop.Orders
        {
            public sealed record ImportMessage(string File);

            public static class OrderImport
            {
                [MageTask("import-orders")]
                public static Task Import(ImportMessage message) => Task.CompletedTask;
            }
        }

        namespace Shop.Customers
        {
            public sealed record ImportMessage(string File, bool Overwrite);

            public static class CustomerImport
            {
                [MageTask("import-customers")]
                public static Task Import(ImportMessage message) => Task.CompletedTask;
            }
        }
        """);

    [Fact]
    public void Explicit_name_and_options() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask("orders.charge-card", Retries = 3, TimeoutSeconds = 30, RetryDelayMilliseconds = 250)]
            public static Task<OrderReceipt> ChargeCard(OrderMessage message) =>
                Task.FromResult(new OrderReceipt(message.OrderId, message.Amount));
        }
        """]);

    [Fact]
    public void Message_properties_named_like_keywords_or_builder_parameters() => GeneratorAssert.Generates("""
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        // camelCased, these clash with C# keywords, with the builder's own parameters, and with the lambda
        // parameter in the body of AsignAsync (signature).
        public sealed record AwkwardMessage(
            string Class,
            string Event,
            int Default,
            string Mage,
            string SuccessCallbacks,
            string ErrorCallbacks,
            string CancellationToken,
            string Signature);

        public static class Awkward
        {
            [MageTask]
            public static Task HandleAwkward(AwkwardMessage message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public void User_namespaces_shadowing_System_and_MageFlow() => GeneratorAssert.Generates("""
        using MageFlow;

        namespace Shop.System
        {
            public sealed class Threading;
        }

        namespace Shop.MageFlow
        {
            public sealed class TaskContext;
        }

        namespace Shop
        {
            public sealed record ShadowMessage(string Text);

            public sealed class Task;

            public static class Shadowed
            {
                // Generated code in namespace Shop must reach System and MageFlow through global::.
                [MageTask]
                public static global::System.Threading.Tasks.Task<string> Echo(ShadowMessage message, global::System.Threading.CancellationToken cancellationToken) =>
                    global::System.Threading.Tasks.Task.FromResult(message.Text);
            }
        }
        """);

    [Fact]
    public void Task_name_needing_string_escapes() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask("orders/\"vip\"\\charge now")]
            public static Task ChargeVip(OrderMessage message) => Task.CompletedTask;
        }
        """]);

    [Fact]
    public void Escaped_identifiers_in_namespace_type_method_and_members() => GeneratorAssert.Generates("""
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop.@event;

        public sealed record @record(string @string, int @int);

        public static class @static
        {
            [MageTask]
            public static Task @operator(@record message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public void Static_method_of_interface() => GeneratorAssert.Generates([Messages, """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public interface IOrderTasks
        {
            [MageTask]
            public static Task Cancel(OrderMessage message) => Task.CompletedTask;
        }
        """]);
}
