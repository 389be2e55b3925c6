using Microsoft.CodeAnalysis.Testing;
using Verify = MageFlow.Analyzers.Tests.AnalyzerVerifier<MageFlow.Analyzers.CallbackAnalyzer>;

namespace MageFlow.Analyzers.Tests;

/// <summary>MAGE003: a required member of an error callback's message comes neither from the failed task's message nor from the callback's bound kwargs.</summary>
public sealed class ErrorCallbackMemberWithoutSourceTests
{
    [Fact]
    public Task Unbound_positional_member_is_reported_with_both_messages() => Verify.VerifyAsync(ShopModel.Declarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var notify = await NotifyFailure.AsignAsync(mage);
                await ProcessOrder.AsignAsync(mage, errorCallbacks: [{|#0:notify|}]);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ErrorCallbackMemberWithoutSource).WithLocation(0)
                .WithArguments("notify-failure", "Channel", "Shop.OrderFailedMessage", "Shop.OrderMessage", "channel"),
        ]);

    [Fact]
    public Task Member_of_an_incompatible_type_and_required_members_are_reported() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed class RefundMessage
        {
            public required int OrderId { get; init; }
            public required string Reason { get; init; }
            public string? Note { get; init; }
        }
        public static class MoreTasks { [MageTask] public static void Refund(RefundMessage message) { } }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var refund = await Refund.AsignAsync(mage, note: "auto");
                await ProcessOrder.AsignAsync(mage, errorCallbacks: [{|#0:refund|}]);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ErrorCallbackMemberWithoutSource).WithLocation(0)
                .WithArguments("refund", "OrderId", "Shop.RefundMessage", "Shop.OrderMessage", "orderId"),
            new DiagnosticResult(DiagnosticDescriptors.ErrorCallbackMemberWithoutSource).WithLocation(0)
                .WithArguments("refund", "Reason", "Shop.RefundMessage", "Shop.OrderMessage", "reason"),
        ]);

    [Fact]
    public Task Inline_callbacks_signing_by_name_and_explicit_message_type_are_checked() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record CustomerMessage(string CustomerId);
        public static class MoreTasks { [MageTask] public static void Greet(CustomerMessage message) { } }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                await ProcessOrder.AsignAsync(errorCallbacks: [{|MAGE003:await NotifyFailure.AsignAsync(priority: "high")|}]);
                await mage.AsignAsync("process-order", errorCallbacks: [{|MAGE003:await NotifyFailure.AsignAsync(mage)|}]);
                await mage.AsignAsync<CustomerMessage>("greet", errorCallbacks: [{|MAGE003:await NotifyFailure.AsignAsync(mage, channel: "sms")|}, {|MAGE003:await NotifyFailure.AsignAsync(mage, channel: "sms")|}]);
            }
        }
        """.Replace(
            """[{|MAGE003:await NotifyFailure.AsignAsync(mage, channel: "sms")|}, {|MAGE003:await NotifyFailure.AsignAsync(mage, channel: "sms")|}]""",
            // OrderId, Amount and Priority are all missing from a CustomerMessage
            """[{|MAGE003:{|MAGE003:{|MAGE003:await NotifyFailure.AsignAsync(mage, channel: "sms")|}|}|}]"""));

    [Fact]
    public Task Error_callbacks_in_a_local_assigned_once_are_reported_in_its_initializer() => Verify.VerifyAsync(ShopModel.Declarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var email = await NotifyFailure.AsignAsync(mage, channel: "email");
                TaskSignature[] onFailure = [email, {|#0:await NotifyFailure.AsignAsync(mage)|}];
                await ProcessOrder.AsignAsync(mage, errorCallbacks: onFailure);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ErrorCallbackMemberWithoutSource).WithLocation(0)
                .WithArguments("notify-failure", "Channel", "Shop.OrderFailedMessage", "Shop.OrderMessage", "channel"),
        ]);

    [Fact]
    public Task Error_callbacks_in_a_local_that_may_change_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage, TaskSignature[] fromCaller)
            {
                var notify = await NotifyFailure.AsignAsync(mage);
                var onFailure = new List<TaskSignature> { notify };
                onFailure.Clear();
                await ProcessOrder.AsignAsync(mage, errorCallbacks: onFailure);
                await ProcessOrder.AsignAsync(mage, errorCallbacks: fromCaller);
            }
        }
        """);

    [Fact]
    public Task Members_bound_by_the_callback_or_found_in_the_failed_message_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed class EscalationMessage
        {
            public required string OrderID { get; init; }
            public required string Team { get; init; }
            public int Level { get; init; } = 1;
        }
        public static class MoreTasks { [MageTask] public static void Escalate(EscalationMessage message) { } }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var notify = await NotifyFailure.AsignAsync(mage, channel: "email");
                var escalate = await Escalate.AsignAsync(mage, team: "billing");
                await ProcessOrder.AsignAsync(mage, errorCallbacks: [notify, escalate, await NotifyFailure.AsignAsync(mage, channel: default)]);
            }
        }
        """);

    [Fact]
    public Task Optional_members_and_parameterless_constructors_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public sealed record AlertMessage(string OrderId, string Channel = "email", int Attempts = 0);
        public sealed class PlainMessage { public string Text { get; set; } = ""; public int Count { get; set; } }
        public static class MoreTasks
        {
            [MageTask] public static void Alert(AlertMessage message) { }
            [MageTask] public static void Plain(PlainMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var alert = await Alert.AsignAsync(mage);
                var plain = await Plain.AsignAsync(mage);
                await ProcessOrder.AsignAsync(mage, errorCallbacks: [alert, plain]);
            }
        }
        """);

    [Fact]
    public Task Callbacks_whose_signing_cannot_be_traced_report_nothing() => Verify.VerifyAsync(ShopModel.Declarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage, NotifyFailure.Signature fromCaller, bool urgent)
            {
                var notify = await NotifyFailure.AsignAsync(mage);
                if (urgent) notify = await NotifyFailure.AsignAsync(mage, channel: "sms");
                var updated = await NotifyFailure.AsignAsync(mage);
                await updated.Kwargs.UpdateAsync(new { channel = "email" });
                await ProcessOrder.AsignAsync(mage, errorCallbacks: [fromCaller, notify, updated]);
                await mage.AsignAsync("unknown-task", errorCallbacks: [await NotifyFailure.AsignAsync(mage)]);
            }
        }
        """);

    [Fact]
    public Task Pragma_suppresses() => Verify.VerifyAsync(ShopModel.Declarations + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var notify = await NotifyFailure.AsignAsync(mage);
        #pragma warning disable MAGE003 // the channel is bound in the worker before the callback runs
                await ProcessOrder.AsignAsync(mage, errorCallbacks: [notify]);
        #pragma warning restore MAGE003
            }
        }
        """);
}
