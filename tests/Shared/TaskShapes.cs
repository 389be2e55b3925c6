namespace MageFlow.TestShapes;

/// <summary>
/// Every <c>[MageTask]</c> shape the generator and analyzer tests know, each a whole program, by name. The parity
/// test runs the generator and the analyzers over each; the generator tests run the generator over each.
/// Add a shape here when a test of either side meets a new one.
/// </summary>
public static class TaskShapes
{
    private const string Header = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public record OrderMessage(string OrderId, decimal Amount);
        public record OrderReceipt(string OrderId, decimal Charged);

        """;

    /// <summary>For programs with block-scoped namespaces.</summary>
    private const string Usings = """
        using System.Threading.Tasks;
        using MageFlow;

        public record OrderMessage(string OrderId, decimal Amount);

        """;

    private static string Tasks(string members) => Header + "public static class Tasks\n{\n" + members + "\n}\n";

    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>
    {
        // Supported shapes
        ["valid: every return shape"] = Tasks("""
            [MageTask] public static void ReturnsVoid(OrderMessage message) { }
            [MageTask] public static OrderReceipt ReturnsValue(OrderMessage message) => new(message.OrderId, message.Amount);
            [MageTask] public static Task ReturnsTask(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static Task<OrderReceipt> ReturnsTaskOfValue(OrderMessage message) => Task.FromResult(new OrderReceipt("o", 1m));
            [MageTask] public static ValueTask ReturnsValueTask() => default;
            [MageTask] public static ValueTask<List<int>> ReturnsValueTaskOfList(OrderMessage message) => new(new List<int>());
            [MageTask] public static IEnumerable<int> ReturnsEnumerable(OrderMessage message) => [1];
            """),
        ["valid: token and context in any order, explicit name and options"] = Tasks("""
            [MageTask("process-order", Retries = 2, TimeoutSeconds = 30, RetryDelayMilliseconds = 250)]
            public static async Task<OrderReceipt> ProcessOrder(OrderMessage message, CancellationToken ct) { await Task.Yield(); return new OrderReceipt(message.OrderId, message.Amount); }
            [MageTask] public static int Count(OrderMessage message, TaskContext context, CancellationToken ct) => 1;
            [MageTask] public static int CountFirst(CancellationToken ct, TaskContext context, OrderMessage message) => 1;
            [MageTask] internal static Task<string> Describe(OrderMessage message) => Task.FromResult("");
            [MageTask("")] public static void EmptyNameMeansDefault(OrderMessage message) { }
            """),
        ["valid: instance methods of concrete classes"] = Header + """
            public sealed class Billing
            {
                [MageTask] public Task<OrderReceipt> Charge(OrderMessage message, CancellationToken ct) => Task.FromResult(new OrderReceipt("o", 1m));
            }

            internal class Refunds
            {
                [MageTask] internal Task Refund(OrderMessage message) => Task.CompletedTask;
                [MageTask] protected internal Task RefundLater(OrderMessage message) => Task.CompletedTask;
            }
            """,
        ["valid: nested types, interface statics, global namespace"] = Usings + """
            public static class GlobalTasks
            {
                [MageTask] public static Task<string> Ping(OrderMessage message) => Task.FromResult(message.OrderId);
            }

            namespace Shop
            {
                public static class Warehouse
                {
                    public static class Inventory
                    {
                        [MageTask] public static Task Restock(OrderMessage message) => Task.CompletedTask;
                    }
                }

                public interface IStaticTasks
                {
                    [MageTask] static void Notify(OrderMessage message) { }
                }
            }
            """,
        ["valid: same method name in two namespaces, distinct task names"] = Usings + """
            namespace Shop.Orders
            {
                public static class OrderImport { [MageTask("import-orders")] public static Task Import(OrderMessage message) => Task.CompletedTask; }
            }

            namespace Shop.Customers
            {
                public static class CustomerImport { [MageTask("import-customers")] public static Task Import(OrderMessage message) => Task.CompletedTask; }
            }
            """,
        ["valid: escaped identifiers"] = """
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop.@event;

            public sealed record @record(string @string, int @int);

            public static class @static
            {
                [MageTask] public static Task @operator(@record message) => Task.CompletedTask;
            }
            """,
        ["valid: names differing only in case"] = Tasks("""
            [MageTask("ship-express")] public static Task Ship(OrderMessage message) => Task.CompletedTask;
            [MageTask("ship-slow")] public static Task SHIP(OrderMessage message) => Task.CompletedTask;
            """),
        ["valid: task names differing only in case"] = Tasks("""
            [MageTask("Audit")] public static void First(OrderMessage message) { }
            [MageTask("audit")] public static void Second(OrderMessage message) { }
            """),

        // Shapes the worker cannot run or the generated code cannot call
        ["invalid: generic method"] = Tasks("""
            [MageTask] public static Task Handle<TMessage>(TMessage message) => Task.CompletedTask;
            """),
        ["invalid: generic containing type"] = Header + """
            public static class Tasks<T>
            {
                [MageTask] public static void Handle(OrderMessage message) { }
            }
            """,
        ["invalid: file-local containing type"] = Header + """
            file static class Tasks
            {
                [MageTask] public static void Handle(OrderMessage message) { }
            }
            """,
        ["invalid: ref, in, out, params parameters"] = Tasks("""
            [MageTask] public static void ByRef(ref OrderMessage message) { }
            [MageTask] public static void ByIn(in OrderMessage message) { }
            [MageTask] public static void ByOut(out OrderMessage message) => message = new OrderMessage("o", 1m);
            [MageTask] public static void ByParams(params OrderMessage[] messages) { }
            [MageTask] public static void ByOutExtra(OrderMessage message, out int length) => length = 1;
            """),
        ["invalid: two messages, tokens or contexts"] = Tasks("""
            [MageTask] public static Task TwoMessages(OrderMessage message, OrderReceipt previous, CancellationToken ct) => Task.CompletedTask;
            [MageTask] public static void TwoTokens(OrderMessage message, CancellationToken first, CancellationToken second) { }
            [MageTask] public static void TwoContexts(TaskContext first, TaskContext second) { }
            """),
        ["invalid: message types JSON cannot carry"] = Tasks("""
            [MageTask] public static void Dynamic(dynamic message) { }
            [MageTask] public static void Span(System.Span<int> message) { }
            [MageTask] public static unsafe void Pointer(int* message) { }
            """),
        ["invalid: results that are awaitable, streams, by reference"] = Tasks("""
            [MageTask] public static async IAsyncEnumerable<int> Stream(OrderMessage message) { await Task.Yield(); yield return 1; }
            [MageTask] public static Task<Task> Nested(OrderMessage message) => Task.FromResult(Task.CompletedTask);
            [MageTask] public static ValueTask<Task<int>> NestedValueTask(OrderMessage message) => new(Task.FromResult(1));
            [MageTask] public static Task<Task<int>> NestedTaskTask(OrderMessage message) => Task.FromResult(Task.FromResult(1));
            [MageTask] public static Task<IAsyncEnumerable<int>> AwaitedStream(OrderMessage message) => Task.FromResult<IAsyncEnumerable<int>>(null!);
            [MageTask] public static ref int ByReference(OrderMessage message) => ref Field;
            private static int Field;
            """),
        ["invalid: unresolved types"] = Tasks("""
            [MageTask] public static void UnknownMessage(MissingMessage message) { }
            [MageTask] public static Task<MissingReceipt> UnknownResult(OrderMessage message) => null!;
            """),
        ["invalid: hidden from the generated builder"] = Header + """
            public class Tasks
            {
                [MageTask] private static void Hidden(OrderMessage message) { }
                [MageTask] protected static void ForSubclasses(OrderMessage message) { }
                [MageTask] private protected static void ForAssemblySubclasses(OrderMessage message) { }

                private static class Nested
                {
                    [MageTask] public static void InPrivateType(OrderMessage message) { }
                }

                public static void CallHidden() => Hidden(new OrderMessage("o", 1m));
            }
            """,
        ["invalid: instance methods the worker cannot create"] = Header + """
            public abstract class AbstractTasks
            {
                [MageTask] public Task Charge(OrderMessage message) => Task.CompletedTask;
            }

            public struct StructTasks
            {
                [MageTask] public Task Refund(OrderMessage message) => Task.CompletedTask;
            }

            public interface ITasks
            {
                [MageTask] Task Notify(OrderMessage message);
            }

            public interface IStaticTasks
            {
                [MageTask] static abstract void NotifyAll(OrderMessage message);
                [MageTask] static virtual void Remind(OrderMessage message) { }
            }
            """,
        ["invalid: settings the runtime rejects"] = Tasks("""
            [MageTask("charge,refund")] public static void Charge(OrderMessage message) { }
            [MageTask("orders:vip")] public static void Colon(OrderMessage message) { }
            [MageTask(" ")] public static void Blank(OrderMessage message) { }
            [MageTask(Retries = -1)] public static void Refund(OrderMessage message) { }
            [MageTask(TimeoutSeconds = -5)] public static void Ship(OrderMessage message) { }
            [MageTask(RetryDelayMilliseconds = -1)] public static void Retry(OrderMessage message) { }
            """),

        // Builder class names
        ["builder: method named like a builder member"] = Tasks("""
            [MageTask("sign")] public static void AsignAsync(OrderMessage message) { }
            [MageTask] public static Task Signature(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static Task Archive(OrderMessage message) => Task.CompletedTask;
            """),
        ["builder: overloads"] = Tasks("""
            [MageTask("overload-a")] public static void Overloaded(OrderMessage message) { }
            [MageTask("overload-b")] public static void Overloaded(OrderReceipt receipt) { }
            """),
        ["builder: name taken by a type or a namespace"] = Usings + """
            namespace Shop
            {
                public static class Shipping
                {
                    [MageTask] public static void Shipment(OrderMessage message) { }
                    [MageTask] public static void Billing(OrderMessage message) { }
                    [MageTask] public static void Pack(OrderMessage message) { }
                }

                public sealed class Shipment { }
            }

            namespace Shop.Billing
            {
                public sealed class Invoice { }
            }
            """,
        ["builder: same method name in two classes of one namespace"] = Header + """
            public static class Orders
            {
                [MageTask("orders-process")] public static void Process(OrderMessage message) { }
            }

            public static class Legacy
            {
                [MageTask("legacy-process")] public static void Process(OrderMessage message) { }
            }
            """,
        // The drift case: an invalid A.Import claims no builder, so the valid B.Import keeps it.
        ["builder: an invalid task claims no builder class"] = Header + """
            public static class A
            {
                [MageTask] private static void Import(OrderMessage message) { }
                public static void Run() => Import(new OrderMessage("o", 1m));
            }

            public static class B
            {
                [MageTask] public static void Import(OrderMessage message) { }
            }
            """,

        // Task names
        ["names: same method name in two namespaces"] = Usings + """
            namespace Shop.Orders
            {
                public static class Orders { [MageTask] public static Task ProcessOrder(OrderMessage message) => Task.CompletedTask; }
            }

            namespace Shop.Legacy
            {
                public static class Legacy { [MageTask] public static Task ProcessOrder(OrderMessage message) => Task.CompletedTask; }
            }
            """,
        ["names: explicit name equal to a default one, acronyms"] = Tasks("""
            [MageTask] public static Task ProcessOrderAsync(OrderMessage message) => Task.CompletedTask;
            [MageTask("process-order")] public static Task Handle(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static Task SendHTTPRequest(OrderMessage message) => Task.CompletedTask;
            [MageTask("send-http-request")] public static Task Send(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static Task Unique(OrderMessage message) => Task.CompletedTask;
            """),
        ["names: three-way clash"] = Tasks("""
            [MageTask("audit")] public static void First(OrderMessage message) { }
            [MageTask("audit")] public static void Second(OrderMessage message) { }
            [MageTask("audit")] public static void Third(OrderMessage message) { }
            """),
        ["names: invalid tasks and builder losers claim no task name"] = Header + """
            public static class Tasks
            {
                [MageTask("import")] private static void Hidden(OrderMessage message) { }
                [MageTask("import")] public static void Import(OrderMessage message) { }
                public static void Run() => Hidden(new OrderMessage("o", 1m));
            }

            public static class Legacy
            {
                [MageTask("process")] public static void Process(OrderMessage message) { }
            }

            public static class Orders
            {
                [MageTask("process")] public static void Process(OrderMessage message) { }
            }
            """,
    };
}
