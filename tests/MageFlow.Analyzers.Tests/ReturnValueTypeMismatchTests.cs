using Microsoft.CodeAnalysis.Testing;
using Verify = MageFlow.Analyzers.Tests.AnalyzerVerifier<MageFlow.Analyzers.CallbackAnalyzer>;

namespace MageFlow.Analyzers.Tests;

/// <summary>MAGE001: a success callback's receiving member cannot hold the signed task's return value.</summary>
public sealed class ReturnValueTypeMismatchTests
{
    [Fact]
    public Task Receipt_into_a_string_member_is_reported_with_both_types() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record TextConfirmation([property: ReturnValue] string Receipt, string Template);
        public static class TextTasks { [MageTask] public static Task SendText(TextConfirmation message) => Task.CompletedTask; }

        public static class Checkout
        {
            public static async Task Run(IMageFlow mage)
            {
                var text = await SendText.AsignAsync(mage, template: "welcome");
                var audit = await Audit.AsignAsync(mage, source: "checkout");
                await ProcessOrder.AsignAsync(mage, successCallbacks: [{|#0:text|}, audit]);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(0)
                .WithArguments("process-order", "Shop.OrderReceipt", "send-text", "Receipt", "string"),
        ]);

    [Fact]
    public Task Task_returning_nothing_into_a_non_nullable_value_member_is_reported() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record CountMessage([property: ReturnValue] int Count);
        public static class CountTasks
        {
            [MageTask] public static Task Cleanup(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static void RecordCount(CountMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var record = await RecordCount.AsignAsync(mage);
                await Cleanup.AsignAsync(mage, successCallbacks: [{|MAGE001:record|}]);
            }
        }
        """);

    [Fact]
    public Task Collection_and_numeric_narrowing_are_reported() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record NumbersMessage([property: ReturnValue] int[]? Numbers);
        public sealed record PriceMessage(decimal MageflowResults);
        public static class MoreTasks
        {
            [MageTask] public static List<string> Tags(OrderMessage message) => new();
            [MageTask] public static double Price(OrderMessage message) => 1.0;
            [MageTask] public static void StoreNumbers(NumbersMessage message) { }
            [MageTask] public static void StorePrice(PriceMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var numbers = await StoreNumbers.AsignAsync(mage);
                var price = await StorePrice.AsignAsync(mage);
                await Tags.AsignAsync(mage, successCallbacks: [{|MAGE001:numbers|}]);
                await Price.AsignAsync(successCallbacks: new TaskSignature[] { {|MAGE001:price|} });
            }
        }
        """);

    [Fact]
    public Task Callbacks_in_a_list_initializer_are_checked() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record TextConfirmation([property: ReturnValue] string Receipt);
        public static class TextTasks { [MageTask] public static Task SendText(TextConfirmation message) => Task.CompletedTask; }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var text = await SendText.AsignAsync(mage);
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                await ProcessOrder.AsignAsync(mage, successCallbacks: new List<TaskSignature> { confirm, {|MAGE001:text|} });
            }
        }
        """);

    [Fact]
    public Task Signing_by_name_and_inline_callbacks_are_checked() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record LongMessage([property: ReturnValue] long Total);
        public static class MoreTasks
        {
            [MageTask] public static void StoreTotal(LongMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                await mage.AsignAsync("process-order", successCallbacks: [{|MAGE001:await StoreTotal.AsignAsync(mage)|}]);
                await Mage.AsignAsync<OrderMessage>("process-order", new { priority = "high" }, [{|MAGE001:await StoreTotal.AsignAsync()|}]);
            }
        }
        """);

    [Fact]
    public Task Callbacks_in_a_local_assigned_once_are_reported_in_its_initializer() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record TextConfirmation([property: ReturnValue] string Receipt);
        public static class TextTasks { [MageTask] public static Task SendText(TextConfirmation message) => Task.CompletedTask; }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var text = await SendText.AsignAsync(mage);
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                List<TaskSignature> expression = [confirm, {|#0:text|}];
                var array = new TaskSignature[] { {|#1:text|}, confirm };
                var list = new List<TaskSignature> { {|#2:await SendText.AsignAsync(mage)|} };
                await ProcessOrder.AsignAsync(mage, successCallbacks: expression);
                await ProcessOrder.AsignAsync(mage, successCallbacks: array);
                await mage.AsignAsync("process-order", successCallbacks: list);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(0)
                .WithArguments("process-order", "Shop.OrderReceipt", "send-text", "Receipt", "string"),
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(1)
                .WithArguments("process-order", "Shop.OrderReceipt", "send-text", "Receipt", "string"),
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(2)
                .WithArguments("process-order", "Shop.OrderReceipt", "send-text", "Receipt", "string"),
        ]);

    [Fact]
    public Task Callback_lists_that_may_change_or_come_from_elsewhere_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record TextConfirmation([property: ReturnValue] string Receipt);
        public static class TextTasks { [MageTask] public static Task SendText(TextConfirmation message) => Task.CompletedTask; }

        public static class Flow
        {
            private static TaskSignature[] s_callbacks = [];

            public static async Task Run(IMageFlow mage, TaskSignature[] fromCaller, bool retry)
            {
                var text = await SendText.AsignAsync(mage);
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");

                TaskSignature[] reassigned = [text];
                if (retry) reassigned = [confirm];
                await ProcessOrder.AsignAsync(mage, successCallbacks: reassigned);

                var added = new List<TaskSignature> { text };
                added.Add(confirm);
                await ProcessOrder.AsignAsync(mage, successCallbacks: added);

                var indexed = new TaskSignature[] { text };
                indexed[0] = confirm;
                await ProcessOrder.AsignAsync(mage, successCallbacks: indexed);

                List<TaskSignature> byRef = [text];
                Replace(ref byRef, confirm);
                await ProcessOrder.AsignAsync(mage, successCallbacks: byRef);

                List<TaskSignature> shared = [text];
                Fill(shared);
                await ProcessOrder.AsignAsync(mage, successCallbacks: shared);

                TaskSignature[] declaredLater;
                declaredLater = [text];
                await ProcessOrder.AsignAsync(mage, successCallbacks: declaredLater);

                await ProcessOrder.AsignAsync(mage, successCallbacks: fromCaller);
                await ProcessOrder.AsignAsync(mage, successCallbacks: s_callbacks);
                await ProcessOrder.AsignAsync(mage, successCallbacks: Build(text));
            }

            private static void Replace(ref List<TaskSignature> callbacks, TaskSignature callback) => callbacks = [callback];
            private static void Fill(List<TaskSignature> callbacks) => callbacks.Clear();
            private static TaskSignature[] Build(TaskSignature callback) => [callback];
        }
        """);

    [Fact]
    public Task Compatible_members_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record ListMessage([property: ReturnValue] IReadOnlyList<long>? Numbers);
        public sealed record ObjectMessage([property: ReturnValue] object? Value);
        public sealed record JsonMessage([property: ReturnValue] System.Text.Json.JsonElement Value);
        public sealed record NullableMessage { [ReturnValue] public decimal? Total { get; init; } }
        public static class MoreTasks
        {
            [MageTask] public static List<int> Numbers(OrderMessage message) => new();
            [MageTask] public static int Total(OrderMessage message) => 1;
            [MageTask] public static void StoreList(ListMessage message) { }
            [MageTask] public static void StoreObject(ObjectMessage message) { }
            [MageTask] public static void StoreJson(JsonMessage message) { }
            [MageTask] public static void StoreNullable(NullableMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var list = await StoreList.AsignAsync(mage);
                var anything = await StoreObject.AsignAsync(mage);
                var json = await StoreJson.AsignAsync(mage);
                var total = await StoreNullable.AsignAsync(mage);
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                var audit = await Audit.AsignAsync(mage, source: "checkout");
                await Numbers.AsignAsync(mage, successCallbacks: [list, anything, json]);
                await Total.AsignAsync(mage, successCallbacks: [total, anything, json]);
                await ProcessOrder.AsignAsync(mage, successCallbacks: [confirm, audit, anything, json]);
            }
        }
        """);

    [Fact]
    public Task Base_types_and_task_returning_nothing_into_nullable_members_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public abstract record Document(string Id);
        public sealed record Invoice(string Id, decimal Total) : Document(Id);
        public record ReceiverBase { [ReturnValue] public Document? Document { get; init; } }
        public sealed record ArchiveMessage(string Folder) : ReceiverBase;
        public static class MoreTasks
        {
            [MageTask] public static Task<Invoice> CreateInvoice(OrderMessage message) => Task.FromResult(new Invoice("i", 1m));
            [MageTask] public static Task Archive(ArchiveMessage message) => Task.CompletedTask;
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var archive = await Archive.AsignAsync(mage, folder: "invoices");
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                await CreateInvoice.AsignAsync(mage, successCallbacks: [archive]);
                // NotifyFailure returns nothing: null reaches the nullable receipt
                await NotifyFailure.AsignAsync(mage, successCallbacks: [confirm, archive]);
            }
        }
        """);

    [Fact]
    public Task Results_known_only_at_run_time_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record TextConfirmation([property: ReturnValue] string? Text);
        public static class MoreTasks
        {
            [MageTask] public static object Anything(OrderMessage message) => "text";
            [MageTask] public static System.Text.Json.JsonElement Raw(OrderMessage message) => default;
            [MageTask] public static void SendText(TextConfirmation message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var text = await SendText.AsignAsync(mage);
                await Anything.AsignAsync(mage, successCallbacks: [text]);
                await Raw.AsignAsync(mage, successCallbacks: [text]);
            }
        }
        """);

    [Fact]
    public Task Untyped_callbacks_and_error_callbacks_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record TextConfirmation([property: ReturnValue] string Receipt, string Template);
        public static class TextTasks { [MageTask] public static Task SendText(TextConfirmation message) => Task.CompletedTask; }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                TaskSignature untyped = await SendText.AsignAsync(mage, template: "x");
                var byName = await mage.AsignAsync("send-text", new { template = "x" });
                var text = await SendText.AsignAsync(mage, template: "x");
                await ProcessOrder.AsignAsync(mage, successCallbacks: [untyped, byName]);
                await mage.AsignAsync("unknown-task", successCallbacks: [text]);
            }
        }
        """);

    [Fact]
    public Task Pragma_suppresses() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record TextConfirmation([property: ReturnValue] string Receipt);
        public static class TextTasks { [MageTask] public static Task SendText(TextConfirmation message) => Task.CompletedTask; }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var text = await SendText.AsignAsync(mage);
        #pragma warning disable MAGE001 // the receipt's ToString() is not what arrives, but this callback only logs it
                await ProcessOrder.AsignAsync(mage, successCallbacks: [text]);
        #pragma warning restore MAGE001
            }
        }
        """);
}
