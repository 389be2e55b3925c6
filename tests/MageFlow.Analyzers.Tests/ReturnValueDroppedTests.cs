using Microsoft.CodeAnalysis.Testing;
using Verify = MageFlow.Analyzers.Tests.AnalyzerVerifier<MageFlow.Analyzers.CallbackAnalyzer>;

namespace MageFlow.Analyzers.Tests;

/// <summary>MAGE002: a success callback's message has neither a [ReturnValue] nor a MageflowResults member.</summary>
public sealed class ReturnValueDroppedTests
{
    private const string LogDeclarations = """
        public sealed record LogMessage(string Text);
        public static class LogTasks { [MageTask] public static void Log(LogMessage message) { } }

        """;

    [Fact]
    public Task Callback_without_receiving_member_is_reported_with_the_message_type() => Verify.VerifyAsync(ShopModel.Declarations + LogDeclarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var log = await Log.AsignAsync(mage, text: "done");
                await ProcessOrder.AsignAsync(mage, successCallbacks: [{|#0:log|}]);
            }
        }
        """,
        [new DiagnosticResult(DiagnosticDescriptors.ReturnValueDropped).WithLocation(0).WithArguments("process-order", "Shop.OrderReceipt", "log", "Shop.LogMessage")]);

    [Fact]
    public Task Signing_by_name_is_reported() => Verify.VerifyAsync(ShopModel.Declarations + LogDeclarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var log = await Log.AsignAsync(mage, text: "done");
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                await mage.AsignAsync("process-order", new { priority = "high" }, successCallbacks: [confirm, {|MAGE002:log|}]);
            }
        }
        """);

    [Fact]
    public Task Array_of_callbacks_and_ambient_overload_are_reported() => Verify.VerifyAsync(ShopModel.Declarations + LogDeclarations + """
        public static class Flow
        {
            public static async Task Run()
            {
                var log = await Log.AsignAsync(text: "done");
                await ProcessOrder.AsignAsync(successCallbacks: new[] { {|MAGE002:log|}, {|MAGE002:log|} });
                await ProcessOrder.AsignAsync(priority: "high", successCallbacks: [{|MAGE002:await Log.AsignAsync(text: "inline")|}]);
            }
        }
        """);

    [Fact]
    public Task Task_returning_nothing_reports_nothing() => Verify.VerifyAsync(ShopModel.Declarations + LogDeclarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var log = await Log.AsignAsync(mage, text: "done");
                await SendConfirmation.AsignAsync(mage, successCallbacks: [log]);
            }
        }
        """);

    [Fact]
    public Task Fallback_and_inherited_receiving_members_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public record ReceiverBase { [ReturnValue] public OrderReceipt? Receipt { get; init; } }
        public sealed record ShipMessage(string Carrier) : ReceiverBase;
        public sealed class FieldMessage { public OrderReceipt? MageflowResults; }
        public static class MoreTasks
        {
            [MageTask] public static void Ship(ShipMessage message) { }
            [MageTask] public static void Store(FieldMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var audit = await Audit.AsignAsync(mage, source: "checkout");
                var ship = await Ship.AsignAsync(mage, carrier: "post");
                var store = await Store.AsignAsync(mage);
                await ProcessOrder.AsignAsync(mage, successCallbacks: [audit, ship, store]);
            }
        }
        """);

    [Fact]
    public Task Error_callbacks_and_untyped_callbacks_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + LogDeclarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var log = await Log.AsignAsync(mage, text: "failed");
                TaskSignature untyped = log;
                await ProcessOrder.AsignAsync(mage, successCallbacks: [untyped], errorCallbacks: [log]);
            }
        }
        """);

    [Fact]
    public Task Pragma_suppresses() => Verify.VerifyAsync(ShopModel.Declarations + LogDeclarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var log = await Log.AsignAsync(mage, text: "done");
        #pragma warning disable MAGE002 // only the fact that it finished matters
                await ProcessOrder.AsignAsync(mage, successCallbacks: [log]);
        #pragma warning restore MAGE002
            }
        }
        """);
}
