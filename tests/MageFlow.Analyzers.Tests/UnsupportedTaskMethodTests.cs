using Verify = MageFlow.Analyzers.Tests.AnalyzerVerifier<MageFlow.Analyzers.TaskMethodAnalyzer>;

namespace MageFlow.Analyzers.Tests;

/// <summary>MAGE005: [MageTask] methods of a shape the generator and the worker cannot run.</summary>
public sealed class UnsupportedTaskMethodTests
{
    private const string Usings = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public record OrderMessage(string OrderId, decimal Amount);
        public record OrderReceipt(string OrderId, decimal Charged);

        """;

    [Fact]
    public Task Generic_method_is_reported() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
            [MageTask] public static Task {|MAGE005:Handle|}<TMessage>(TMessage message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Ref_out_in_and_params_parameters_are_reported() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
            [MageTask] public static void {|MAGE005:ByRef|}(ref OrderMessage message) { }
            [MageTask] public static void {|MAGE005:ByIn|}(in OrderMessage message) { }
            [MageTask] public static void {|MAGE005:ByOut|}(out OrderMessage message) => message = new OrderMessage("o", 1m);
            [MageTask] public static void {|MAGE005:ByParams|}(params OrderMessage[] messages) { }
        }
        """);

    [Fact]
    public Task Two_message_parameters_are_reported() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
            [MageTask]
            public static Task {|MAGE005:Charge|}(OrderMessage message, OrderReceipt previous, CancellationToken ct) => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Unsupported_return_types_are_reported() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
            [MageTask] public static async IAsyncEnumerable<int> {|MAGE005:Stream|}(OrderMessage message) { await Task.Yield(); yield return 1; }
            [MageTask] public static Task<Task> {|MAGE005:Nested|}(OrderMessage message) => Task.FromResult(Task.CompletedTask);
            [MageTask] public static ValueTask<Task<int>> {|MAGE005:NestedValueTask|}(OrderMessage message) => new(Task.FromResult(1));
        }
        """);

    [Fact]
    public Task Inaccessible_methods_are_reported() => Verify.VerifyAsync(Usings + """
        public class Tasks
        {
            [MageTask] private static void {|MAGE005:Hidden|}(OrderMessage message) { }
            [MageTask] protected static void {|MAGE005:ForSubclasses|}(OrderMessage message) { }

            private static class Nested
            {
                [MageTask] public static void {|MAGE005:InPrivateType|}(OrderMessage message) { }
            }
        }
        """);

    [Fact]
    public Task Instance_methods_the_worker_cannot_create_are_reported() => Verify.VerifyAsync(Usings + """
        public abstract class AbstractTasks
        {
            [MageTask] public Task {|MAGE005:Charge|}(OrderMessage message) => Task.CompletedTask;
        }

        public struct StructTasks
        {
            [MageTask] public Task {|MAGE005:Refund|}(OrderMessage message) => Task.CompletedTask;
        }

        public interface ITasks
        {
            [MageTask] Task {|MAGE005:Notify|}(OrderMessage message);
        }
        """);

    [Fact]
    public Task Settings_the_runtime_rejects_are_reported() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
            [MageTask("charge,refund")] public static void {|MAGE005:Charge|}(OrderMessage message) { }
            [MageTask(Retries = -1)] public static void {|MAGE005:Refund|}(OrderMessage message) { }
            [MageTask(TimeoutSeconds = -5)] public static void {|MAGE005:Ship|}(OrderMessage message) { }
        }
        """);

    [Fact]
    public Task Shapes_the_generator_cannot_emit_are_reported() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
            [MageTask("sign")] public static void {|MAGE005:AsignAsync|}(OrderMessage message) { }
            [MageTask] public static void {|MAGE005:Twice|}(OrderMessage message, CancellationToken first, CancellationToken second) { }
            [MageTask("overload-a")] public static void Overloaded(OrderMessage message) { }
            [MageTask("overload-b")] public static void {|MAGE005:Overloaded|}(OrderReceipt receipt) { }
            [MageTask] public static void {|MAGE005:Dynamic|}(dynamic message) { }
        }

        public interface IStaticTasks
        {
            [MageTask] static abstract void {|MAGE005:Notify|}(OrderMessage message);
            [MageTask] static virtual void {|MAGE005:Remind|}(OrderMessage message) { }
        }
        """);

    [Fact]
    public Task Builder_class_names_taken_in_the_namespace_are_reported() => Verify.VerifyAsync(Usings + """
        // Legacy.Process sorts first (by generated file name) and keeps the builder class 'Shop.Process'
        public static class Orders
        {
            [MageTask("orders-process")] public static void {|MAGE005:Process|}(OrderMessage message) { }
        }

        public static class Legacy
        {
            [MageTask("legacy-process")] public static void Process(OrderMessage message) { }
        }

        public static class Shipping
        {
            [MageTask] public static void {|MAGE005:Shipment|}(OrderMessage message) { }
        }

        public sealed class Shipment { }
        """);

    // Builder classes are settled among valid tasks only, as the generator does: A.Import sorts first but is private,
    // so B.Import keeps the builder class and gets no MAGE005.
    [Fact]
    public Task Invalid_task_does_not_take_the_builder_class_of_a_valid_one() => Verify.VerifyAsync(Usings + """
        public static class A
        {
            [MageTask] private static void {|MAGE005:Import|}(OrderMessage message) { }
            public static void Run() => Import(new OrderMessage("o", 1m));
        }

        public static class B
        {
            [MageTask] public static void Import(OrderMessage message) { }
        }
        """);

    [Fact]
    public Task Builder_class_clash_names_the_task_that_keeps_it() => Verify.VerifyAsync(Usings + """
        public static class Orders
        {
            [MageTask("orders-process")] public static void {|#0:Process|}(OrderMessage message) { }
        }

        public static class Legacy
        {
            [MageTask("legacy-process")] public static void Process(OrderMessage message) { }
        }
        """, expected:
        [
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.BuilderClassTaken).WithLocation(0)
                .WithArguments("Process", "'Shop.Legacy.Process' already gets the builder class 'Shop.Process'; rename one of the methods and keep the task name with [MageTask(\"...\")]"),
        ]);

    [Fact]
    public Task Reason_is_in_the_message() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
            [MageTask] public static Task Charge(OrderMessage message, OrderReceipt previous) => Task.CompletedTask;
        }
        """.Replace("Task Charge", "Task {|#0:Charge|}"), expected:
        [
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.UnsupportedTaskMethod).WithLocation(0)
                .WithArguments("Charge", "it takes more than one message parameter ('message', 'previous'); put them into one message type"),
        ]);

    [Fact]
    public Task Supported_shapes_report_nothing() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
            [MageTask("process-order", Retries = 2)]
            public static async Task<OrderReceipt> ProcessOrder(OrderMessage message, CancellationToken ct) { await Task.Yield(); return new OrderReceipt(message.OrderId, message.Amount); }
            [MageTask] public static void Log(OrderMessage message) { }
            [MageTask] public static int Count(OrderMessage message, TaskContext context, CancellationToken ct) => 1;
            [MageTask] public static ValueTask Ping() => default;
            [MageTask] public static ValueTask<List<int>> Numbers(OrderMessage message) => new(new List<int>());
            [MageTask] internal static Task<string> Describe(OrderMessage message) => Task.FromResult("");
        }

        public interface IStaticTasks
        {
            [MageTask] static void Notify(OrderMessage message) { }
        }
        """);

    [Fact]
    public Task Instance_methods_of_concrete_classes_report_nothing() => Verify.VerifyAsync(Usings + """
        public sealed class Billing
        {
            [MageTask] public Task<OrderReceipt> Charge(OrderMessage message, CancellationToken ct) => Task.FromResult(new OrderReceipt("o", 1m));
        }

        internal class Refunds
        {
            [MageTask] internal Task Refund(OrderMessage message) => Task.CompletedTask;
            protected internal static void NotATask(ref OrderMessage message) { }
        }
        """);

    [Fact]
    public Task Methods_without_the_attribute_report_nothing() => Verify.VerifyAsync(Usings + """
        public static class Helpers
        {
            public static Task Handle<T>(T message, ref int counter) => Task.CompletedTask;
            private static IAsyncEnumerable<int> Stream() => throw new System.NotImplementedException();
        }
        """);

    [Fact]
    public Task Pragma_suppresses() => Verify.VerifyAsync(Usings + """
        public static class Tasks
        {
        #pragma warning disable MAGE005
            [MageTask] public static Task Handle<TMessage>(TMessage message) => Task.CompletedTask;
        #pragma warning restore MAGE005
        }
        """);
}
