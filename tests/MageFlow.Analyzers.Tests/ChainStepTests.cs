using MageFlow.Analyzers.CodeFixes;
using Microsoft.CodeAnalysis.Testing;
using Verify = MageFlow.Analyzers.Tests.AnalyzerVerifier<MageFlow.Analyzers.ChainAnalyzer>;

namespace MageFlow.Analyzers.Tests;

/// <summary>
/// MAGE007: a chain step's return member cannot hold the previous step's return value; and MAGE001/MAGE002 at a
/// chain's success callbacks, which receive the last step's return value.
/// </summary>
public sealed class ChainStepTests
{
    /// <summary>The contract's chain: validate → charge → ship, each step receiving the previous result.</summary>
    private const string Fulfilment = ShopModel.Declarations + """
        public sealed record ValidatedOrder(string OrderId, decimal Amount);
        public sealed record ShipmentId(string Value);
        public sealed record ChargeMessage([property: ReturnValue] ValidatedOrder Order, string Currency = "EUR");
        public sealed record ShipMessage([property: ReturnValue] OrderReceipt Receipt, string Carrier = "post");
        public sealed record ShipmentNotice([property: ReturnValue] ShipmentId? Shipment, string Template);

        public static class FulfilmentTasks
        {
            [MageTask] public static ValidatedOrder ValidateOrder(OrderMessage message) => new(message.OrderId, message.Amount);
            [MageTask] public static Task<OrderReceipt> ChargeOrder(ChargeMessage message) => Task.FromResult(new OrderReceipt(message.Order.OrderId, message.Order.Amount));
            [MageTask] public static ShipmentId ShipOrder(ShipMessage message) => new("s-1");
            [MageTask] public static Task NotifyShipment(ShipmentNotice message) => Task.CompletedTask;
        }

        """;

    [Fact]
    public Task Step_that_cannot_hold_the_previous_result_is_reported_with_both_steps() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var validate = await ValidateOrder.AsignAsync(mage);
                var ship = await ShipOrder.AsignAsync(mage, carrier: "post");
                await mage.ChainAsync([validate, {|#0:ship|}]);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ChainStepTypeMismatch).WithLocation(0)
                .WithArguments("validate-order", "Shop.ValidatedOrder", "ship-order", "Receipt", "Shop.OrderReceipt"),
        ]);

    [Fact]
    public Task Steps_are_read_from_arrays_lists_and_inline_signing() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var validate = await ValidateOrder.AsignAsync(mage);
                var charge = await ChargeOrder.AsignAsync(mage);
                var chargeAgain = await ChargeOrder.AsignAsync(mage);
                await mage.ChainAsync(new TaskSignature[] { await ValidateOrder.AsignAsync(mage), {|MAGE007:await ShipOrder.AsignAsync(mage)|} });
                await mage.ChainAsync(new List<TaskSignature> { validate, charge, {|MAGE007:await ChargeOrder.AsignAsync(mage)|} });
                await mage.ChainAsync(new[] { charge, {|MAGE007:chargeAgain|} });
            }
        }
        """);

    [Fact]
    public Task Step_returning_nothing_into_a_non_nullable_member_is_reported() => Verify.VerifyAsync(Fulfilment + """
        public sealed record CountMessage([property: ReturnValue] int Count);
        public sealed record NoteMessage([property: ReturnValue] string Note);
        public static class MoreTasks
        {
            [MageTask] public static Task Cleanup(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static void RecordCount(CountMessage message) { }
            [MageTask] public static void RecordNote(NoteMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var cleanup = await Cleanup.AsignAsync(mage);
                var count = await RecordCount.AsignAsync(mage);
                var note = await RecordNote.AsignAsync(mage);
                await mage.ChainAsync([cleanup, {|#0:count|}, {|#1:note|}]);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ChainStepTypeMismatch).WithLocation(0)
                .WithArguments("cleanup", "void", "record-count", "Count", "int"),
            new DiagnosticResult(DiagnosticDescriptors.ChainStepTypeMismatch).WithLocation(1)
                .WithArguments("record-count", "void", "record-note", "Note", "string"),
        ]);

    [Fact]
    public Task Numeric_narrowing_collections_and_the_fallback_member_are_reported() => Verify.VerifyAsync(Fulfilment + """
        public sealed record TotalMessage(int MageflowResults);
        public sealed record TagsMessage([property: ReturnValue] int[]? Tags);
        public static class MoreTasks
        {
            [MageTask] public static long Sum(OrderMessage message) => 1;
            [MageTask] public static List<string> Labels(OrderMessage message) => new();
            [MageTask] public static void StoreTotal(TotalMessage message) { }
            [MageTask] public static void StoreTags(TagsMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                await mage.ChainAsync([await Sum.AsignAsync(mage), {|MAGE007:await StoreTotal.AsignAsync(mage)|}]);
                await mage.ChainAsync([await Labels.AsignAsync(mage), {|MAGE007:await StoreTags.AsignAsync(mage)|}]);
            }
        }
        """);

    [Fact]
    public Task Spread_steps_hide_only_the_step_right_after_them() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage, TaskSignature[] more)
            {
                await mage.ChainAsync([await ValidateOrder.AsignAsync(mage), .. more, await ShipOrder.AsignAsync(mage)]);
                await mage.ChainAsync([.. more, await ValidateOrder.AsignAsync(mage), {|MAGE007:await ShipOrder.AsignAsync(mage)|}]);
            }
        }
        """);

    [Fact]
    public Task The_contract_chain_reports_nothing() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var validate = await ValidateOrder.AsignAsync(mage);
                var charge = await ChargeOrder.AsignAsync(mage);
                var ship = await ShipOrder.AsignAsync(mage);
                var notice = await NotifyShipment.AsignAsync(mage, template: "shipped");
                var notify = await NotifyFailure.AsignAsync(mage, channel: "email");
                var chain = await mage.ChainAsync([validate, charge, ship],
                    successCallbacks: [notice], errorCallbacks: [notify], kwargs: new { tenant = "t-1" });
                await chain.RunAsync(new OrderMessage("o-1", 12.5m));
            }
        }
        """);

    [Fact]
    public Task Members_that_read_the_previous_result_back_report_nothing() => Verify.VerifyAsync(Fulfilment + """
        public abstract record Document(string Id);
        public sealed record Invoice(string Id, decimal Total) : Document(Id);
        public sealed record WideMessage([property: ReturnValue] long? Total);
        public sealed record ListMessage([property: ReturnValue] IReadOnlyList<long>? Numbers);
        public sealed record AnyMessage([property: ReturnValue] object? Value);
        public sealed record RawMessage([property: ReturnValue] System.Text.Json.JsonElement Value);
        public sealed record ArchiveMessage([property: ReturnValue] Document? Document);
        public sealed record NoteMessage { [ReturnValue] public string? Note { get; init; } }
        public static class MoreTasks
        {
            [MageTask] public static int Count(OrderMessage message) => 1;
            [MageTask] public static List<int> Numbers(OrderMessage message) => new();
            [MageTask] public static Invoice CreateInvoice(OrderMessage message) => new("i", 1m);
            [MageTask] public static Task Cleanup(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static void StoreWide(WideMessage message) { }
            [MageTask] public static void StoreList(ListMessage message) { }
            [MageTask] public static void StoreAny(AnyMessage message) { }
            [MageTask] public static void StoreRaw(RawMessage message) { }
            [MageTask] public static void Archive(ArchiveMessage message) { }
            [MageTask] public static void WriteNote(NoteMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                await mage.ChainAsync([await Count.AsignAsync(mage), await StoreWide.AsignAsync(mage), await StoreAny.AsignAsync(mage)]);
                await mage.ChainAsync([await Numbers.AsignAsync(mage), await StoreList.AsignAsync(mage)]);
                await mage.ChainAsync([await Numbers.AsignAsync(mage), await StoreRaw.AsignAsync(mage)]);
                await mage.ChainAsync([await CreateInvoice.AsignAsync(mage), await Archive.AsignAsync(mage)]);
                // a step returning nothing passes null, which a nullable member takes
                await mage.ChainAsync([await Cleanup.AsignAsync(mage), await WriteNote.AsignAsync(mage)]);
            }
        }
        """);

    [Fact]
    public Task Steps_not_known_at_compile_time_and_steps_without_a_return_member_report_nothing() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                TaskSignature untyped = await ValidateOrder.AsignAsync(mage);
                var byName = await mage.AsignAsync("validate-order");
                var typedByName = await mage.AsignAsync<ShipMessage>("ship-order");
                var nested = await mage.ChainAsync([await ValidateOrder.AsignAsync(mage), await ChargeOrder.AsignAsync(mage)]);
                await mage.ChainAsync([untyped, await ShipOrder.AsignAsync(mage)]);
                await mage.ChainAsync([byName, await ShipOrder.AsignAsync(mage)]);
                await mage.ChainAsync([await ValidateOrder.AsignAsync(mage), typedByName]);
                await mage.ChainAsync([nested, await ChargeOrder.AsignAsync(mage)]);
                // OrderMessage has no return member: the step runs after the previous one without its result
                await mage.ChainAsync([await ShipOrder.AsignAsync(mage), await ValidateOrder.AsignAsync(mage)]);
            }
        }
        """);

    [Fact]
    public Task Single_step_chains_and_other_ChainAsync_methods_report_nothing() => Verify.VerifyAsync(Fulfilment + """
        public static class Pipeline
        {
            public static Task ChainAsync(IEnumerable<TaskSignature> steps, IEnumerable<TaskSignature>? successCallbacks = null) => Task.CompletedTask;
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                await mage.ChainAsync([await ShipOrder.AsignAsync(mage)]);
                await Pipeline.ChainAsync([await ValidateOrder.AsignAsync(mage), await ShipOrder.AsignAsync(mage)], successCallbacks: [confirm]);
            }
        }
        """);

    [Fact]
    public Task Pragma_suppresses() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var validate = await ValidateOrder.AsignAsync(mage);
                var ship = await ShipOrder.AsignAsync(mage);
        #pragma warning disable MAGE007 // this step reads its receipt from kwargs, not from the previous step
                await mage.ChainAsync([validate, ship]);
        #pragma warning restore MAGE007
            }
        }
        """);

    [Fact]
    public Task Steps_and_callbacks_in_a_local_assigned_once_are_reported_in_its_initializer() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                TaskSignature[] steps = [await ValidateOrder.AsignAsync(mage), {|#0:await ShipOrder.AsignAsync(mage)|}];
                var callbacks = new List<TaskSignature> { {|#1:confirm|} };
                await mage.ChainAsync(steps, successCallbacks: callbacks);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ChainStepTypeMismatch).WithLocation(0)
                .WithArguments("validate-order", "Shop.ValidatedOrder", "ship-order", "Receipt", "Shop.OrderReceipt"),
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(1)
                .WithArguments("ship-order", "Shop.ShipmentId", "send-confirmation", "Receipt", "Shop.OrderReceipt?"),
        ]);

    [Fact]
    public Task Steps_in_a_local_that_may_change_report_nothing() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage, bool express)
            {
                var validate = await ValidateOrder.AsignAsync(mage);
                var charge = await ChargeOrder.AsignAsync(mage);
                var ship = await ShipOrder.AsignAsync(mage);

                // charge goes between the two: validate → charge → ship fits
                var inserted = new List<TaskSignature> { validate, ship };
                inserted.Insert(1, charge);
                await mage.ChainAsync(inserted);

                TaskSignature[] reassigned = [validate, ship];
                if (express) reassigned = [validate, charge];
                await mage.ChainAsync(reassigned);

                TaskSignature[] aliased = [validate, ship];
                var alias = aliased;
                alias[1] = charge;
                await mage.ChainAsync(aliased);
            }
        }
        """);

    [Fact]
    public Task Success_callback_is_checked_against_the_last_step() => Verify.VerifyAsync(Fulfilment + """
        public sealed record CountMessage([property: ReturnValue] int Count);
        public static class MoreTasks
        {
            [MageTask] public static Task Cleanup(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static void RecordCount(CountMessage message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                var count = await RecordCount.AsignAsync(mage);
                await mage.ChainAsync(
                    [await ValidateOrder.AsignAsync(mage), await ChargeOrder.AsignAsync(mage), await ShipOrder.AsignAsync(mage)],
                    successCallbacks: [{|#0:confirm|}]);
                await mage.ChainAsync([await ChargeOrder.AsignAsync(mage), await Cleanup.AsignAsync(mage)], successCallbacks: [{|#1:count|}]);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(0)
                .WithArguments("ship-order", "Shop.ShipmentId", "send-confirmation", "Receipt", "Shop.OrderReceipt?"),
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(1)
                .WithArguments("cleanup", "void", "record-count", "Count", "int"),
        ]);

    [Fact]
    public Task Success_callbacks_that_fit_the_last_step_or_follow_an_unknown_one_report_nothing() => Verify.VerifyAsync(Fulfilment + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage, TaskSignature[] more)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                var audit = await Audit.AsignAsync(mage, source: "chain");
                var notice = await NotifyShipment.AsignAsync(mage, template: "shipped");
                TaskSignature untyped = await ShipOrder.AsignAsync(mage);
                await mage.ChainAsync([await ValidateOrder.AsignAsync(mage), await ChargeOrder.AsignAsync(mage)], successCallbacks: [confirm, audit]);
                await mage.ChainAsync(new List<TaskSignature> { await ShipOrder.AsignAsync(mage) }, new List<TaskSignature> { notice });
                await mage.ChainAsync([await ValidateOrder.AsignAsync(mage), untyped], successCallbacks: [confirm]);
                await mage.ChainAsync([await ValidateOrder.AsignAsync(mage), .. more], successCallbacks: [confirm]);
            }
        }
        """);

    [Fact]
    public Task Success_callback_without_a_return_member_is_fixed_like_any_callback() =>
        CodeFixVerifier<ChainAnalyzer, AddReturnValueCodeFixProvider>.VerifyAsync(
            Fulfilment + """
                public sealed record ShipmentLog(ShipmentId? Shipment, string Channel);
                public static class MoreTasks { [MageTask] public static void LogShipment(ShipmentLog message) { } }

                public static class Flow
                {
                    public static async Task Run(IMageFlow mage)
                    {
                        var log = await LogShipment.AsignAsync(mage, channel: "ops");
                        await mage.ChainAsync([await ChargeOrder.AsignAsync(mage), await ShipOrder.AsignAsync(mage)], successCallbacks: [{|MAGE002:log|}]);
                    }
                }
                """,
            Fulfilment + """
                public sealed record ShipmentLog([property: ReturnValue] ShipmentId? Shipment, string Channel);
                public static class MoreTasks { [MageTask] public static void LogShipment(ShipmentLog message) { } }

                public static class Flow
                {
                    public static async Task Run(IMageFlow mage)
                    {
                        var log = await LogShipment.AsignAsync(mage, channel: "ops");
                        await mage.ChainAsync([await ChargeOrder.AsignAsync(mage), await ShipOrder.AsignAsync(mage)], successCallbacks: [log]);
                    }
                }
                """);
}
