using Microsoft.CodeAnalysis.Testing;
using Verify = MageFlow.Analyzers.Tests.AnalyzerVerifier<MageFlow.Analyzers.TaskMethodAnalyzer>;

namespace MageFlow.Analyzers.Tests;

/// <summary>MAGE006: two [MageTask] methods of one compilation share a task name.</summary>
public sealed class DuplicateTaskNameTests
{
    private const string Unscoped = """
        using System.Threading.Tasks;
        using MageFlow;

        public record OrderMessage(string OrderId);

        """;

    private const string Header = """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public record OrderMessage(string OrderId);

        """;

    // builder classes are named after the method in the method's namespace, so same-named tasks live in two namespaces
    [Fact]
    public Task Same_method_name_in_two_namespaces_is_reported() => Verify.VerifyAsync(Unscoped + """
        namespace Shop.Orders
        {
            public static class Orders
            {
                [MageTask] public static Task {|MAGE006:ProcessOrder|}(OrderMessage message) => Task.CompletedTask;
            }
        }

        namespace Shop.Legacy
        {
            public static class Legacy
            {
                [MageTask] public static Task {|MAGE006:ProcessOrder|}(OrderMessage message) => Task.CompletedTask;
            }
        }
        """);

    [Fact]
    public Task Explicit_name_equal_to_a_default_name_is_reported() => Verify.VerifyAsync(Header + """
        public static class Orders
        {
            [MageTask] public static Task {|MAGE006:ProcessOrderAsync|}(OrderMessage message) => Task.CompletedTask;
            [MageTask("process-order")] public static Task {|MAGE006:Handle|}(OrderMessage message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Acronyms_are_kebab_cased_before_comparing() => Verify.VerifyAsync(Header + """
        public static class Http
        {
            [MageTask] public static Task {|MAGE006:SendHTTPRequest|}(OrderMessage message) => Task.CompletedTask;
            [MageTask("send-http-request")] public static Task {|MAGE006:Send|}(OrderMessage message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Every_method_of_a_three_way_clash_is_reported_with_the_others_named() => Verify.VerifyAsync(Header + """
        public static class Audit
        {
            [MageTask("audit")] public static void {|#0:First|}(OrderMessage message) { }
            [MageTask("audit")] public static void {|#1:Second|}(OrderMessage message) { }
            [MageTask("audit")] public static void {|#2:Third|}(OrderMessage message) { }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.DuplicateTaskName).WithLocation(0).WithArguments("audit", "Shop.Audit.First", "'Shop.Audit.Second', 'Shop.Audit.Third'"),
            new DiagnosticResult(DiagnosticDescriptors.DuplicateTaskName).WithLocation(1).WithArguments("audit", "Shop.Audit.Second", "'Shop.Audit.First', 'Shop.Audit.Third'"),
            new DiagnosticResult(DiagnosticDescriptors.DuplicateTaskName).WithLocation(2).WithArguments("audit", "Shop.Audit.Third", "'Shop.Audit.First', 'Shop.Audit.Second'"),
        ]);

    // Only tasks that get a builder are registered, so only they can take a task name: a private Hidden and an
    // Orders.Process that loses its builder class to Legacy.Process leave theirs free.
    [Fact]
    public Task Tasks_without_a_builder_do_not_take_a_task_name() => Verify.VerifyAsync(Header + """
        public static class Tasks
        {
            [MageTask("import")] private static void {|MAGE005:Hidden|}(OrderMessage message) { }
            [MageTask("import")] public static void Import(OrderMessage message) { }
            public static void Run() => Hidden(new OrderMessage("o"));
        }

        public static class Legacy
        {
            [MageTask("process")] public static void Process(OrderMessage message) { }
        }

        public static class Orders
        {
            [MageTask("process")] public static void {|MAGE005:Process|}(OrderMessage message) { }
        }
        """);

    [Fact]
    public Task Distinct_names_report_nothing() => Verify.VerifyAsync(Header + """
        public static class Orders
        {
            [MageTask] public static Task ProcessOrder(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static Task ProcessOrders(OrderMessage message) => Task.CompletedTask;
            [MageTask("process-order-v2")] public static Task ProcessOrderV2(OrderMessage message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Task_names_are_case_sensitive() => Verify.VerifyAsync(Header + """
        public static class Orders
        {
            [MageTask("Audit")] public static void First(OrderMessage message) { }
            [MageTask("audit")] public static void Second(OrderMessage message) { }
        }
        """);

    [Fact]
    public Task Overloads_without_the_attribute_report_nothing() => Verify.VerifyAsync(Header + """
        public static class Orders
        {
            [MageTask] public static Task ProcessOrder(OrderMessage message) => Task.CompletedTask;
            public static Task ProcessOrder(OrderMessage message, int attempt) => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Pragma_suppresses() => Verify.VerifyAsync(Unscoped + """
        #pragma warning disable MAGE006 // only one of the two processes registers each
        namespace Shop.Orders
        {
            public static class Orders
            {
                [MageTask] public static Task ProcessOrder(OrderMessage message) => Task.CompletedTask;
            }
        }

        namespace Shop.Legacy
        {
            public static class Legacy
            {
                [MageTask] public static Task ProcessOrder(OrderMessage message) => Task.CompletedTask;
            }
        }
        """);
}
