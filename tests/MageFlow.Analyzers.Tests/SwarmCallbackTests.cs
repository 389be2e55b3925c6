using MageFlow.Analyzers.CodeFixes;
using Microsoft.CodeAnalysis.Testing;
using Verify = MageFlow.Analyzers.Tests.AnalyzerVerifier<MageFlow.Analyzers.SwarmAnalyzer>;

namespace MageFlow.Analyzers.Tests;

/// <summary>
/// A swarm signed with <c>SwarmAsync&lt;TResult&gt;</c>: MAGE001/MAGE002 at its success callbacks, which receive a list of
/// TResult (or every outcome in a <c>SwarmResults&lt;T&gt;</c> member), and MAGE007 at items whose result TResult cannot hold.
/// </summary>
public sealed class SwarmCallbackTests
{
    /// <summary>The contract's fan-out: orders processed in a swarm, a summary callback receiving the receipts.</summary>
    private const string Batch = ShopModel.Declarations + """
        public sealed record ShipmentId(string Value);
        public sealed record ShipMessage(string OrderId, string Carrier = "post");
        public sealed record ReceiptBatch([property: ReturnValue] IReadOnlyList<OrderReceipt>? Receipts, string Report);
        public sealed record ReceiptOutcomes([property: ReturnValue] SwarmResults<OrderReceipt>? Outcomes, string Report);

        public static class BatchTasks
        {
            [MageTask] public static ShipmentId ShipOrder(ShipMessage message) => new("s-1");
            [MageTask] public static Task ArchiveOrder(OrderMessage message) => Task.CompletedTask;
            [MageTask] public static Task SummarizeBatch(ReceiptBatch message) => Task.CompletedTask;
            [MageTask] public static Task ReportOutcomes(ReceiptOutcomes message) => Task.CompletedTask;
        }

        """;

    private const string Receipts = "System.Collections.Generic.IReadOnlyList<Shop.OrderReceipt>";

    [Fact]
    public Task Success_callback_that_cannot_hold_the_list_of_results_is_reported_with_the_list_type() => Verify.VerifyAsync(Batch + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                var audit = await Audit.AsignAsync(mage, source: "batch");
                await mage.SwarmAsync<OrderReceipt>(successCallbacks: [{|#0:confirm|}, {|#1:audit|}]);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(0)
                .WithArguments("swarm", Receipts, "send-confirmation", "Receipt", "Shop.OrderReceipt?"),
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(1)
                .WithArguments("swarm", Receipts, "audit", "MageflowResults", "Shop.OrderReceipt?"),
        ]);

    [Fact]
    public Task Lists_of_the_wrong_element_and_SwarmResults_of_the_wrong_type_are_reported() => Verify.VerifyAsync(Batch + """
        public sealed record LabelBatch([property: ReturnValue] List<string>? Labels);
        public sealed record CountBatch([property: ReturnValue] int[]? Counts);
        public sealed record LabelOutcomes([property: ReturnValue] SwarmResults<string>? Outcomes);
        public static class MoreTasks
        {
            [MageTask] public static void StoreLabels(LabelBatch message) { }
            [MageTask] public static void StoreCounts(CountBatch message) { }
            [MageTask] public static void StoreLabelOutcomes(LabelOutcomes message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var labels = await StoreLabels.AsignAsync(mage);
                var counts = await StoreCounts.AsignAsync(mage);
                var outcomes = await StoreLabelOutcomes.AsignAsync(mage);
                await mage.SwarmAsync<OrderReceipt>(successCallbacks: [{|#0:labels|}, {|#1:outcomes|}]);
                await mage.SwarmAsync<long>(new SwarmOptions { MaxConcurrency = 4 }, new List<TaskSignature> { {|#2:counts|} });
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(0)
                .WithArguments("swarm", Receipts, "store-labels", "Labels", "System.Collections.Generic.List<string>?"),
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(1)
                .WithArguments("swarm", Receipts, "store-label-outcomes", "Outcomes", "MageFlow.SwarmResults<string>?"),
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(2)
                .WithArguments("swarm", "System.Collections.Generic.IReadOnlyList<long>", "store-counts", "Counts", "int[]?"),
        ]);

    [Fact]
    public Task Members_that_hold_the_list_or_every_outcome_report_nothing() => Verify.VerifyAsync(Batch + """
        public abstract record Document(string Id);
        public sealed record ReceiptArray([property: ReturnValue] OrderReceipt[] Receipts);
        public sealed record ReceiptList { [ReturnValue] public List<OrderReceipt>? Receipts { get; init; } }
        public sealed record ReceiptSequence(IEnumerable<OrderReceipt>? MageflowResults);
        public sealed record WideNumbers([property: ReturnValue] IList<long>? Numbers);
        public sealed record WideOutcomes([property: ReturnValue] SwarmResults<long?>? Outcomes);
        public sealed record RawBatch([property: ReturnValue] System.Text.Json.JsonElement Results);
        public sealed record AnyBatch([property: ReturnValue] object? Results);
        public static class MoreTasks
        {
            [MageTask] public static void StoreArray(ReceiptArray message) { }
            [MageTask] public static void StoreList(ReceiptList message) { }
            [MageTask] public static void StoreSequence(ReceiptSequence message) { }
            [MageTask] public static void StoreNumbers(WideNumbers message) { }
            [MageTask] public static void StoreNumberOutcomes(WideOutcomes message) { }
            [MageTask] public static void StoreRaw(RawBatch message) { }
            [MageTask] public static void StoreAny(AnyBatch message) { }
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var summary = await SummarizeBatch.AsignAsync(mage, report: "daily");
                var outcomes = await ReportOutcomes.AsignAsync(mage, report: "daily");
                await mage.SwarmAsync<OrderReceipt>(
                    successCallbacks: [summary, outcomes, await StoreArray.AsignAsync(mage), await StoreList.AsignAsync(mage),
                        await StoreSequence.AsignAsync(mage), await StoreRaw.AsignAsync(mage), await StoreAny.AsignAsync(mage)],
                    errorCallbacks: [await NotifyFailure.AsignAsync(mage, channel: "email")]);
                await mage.SwarmAsync<int>(successCallbacks: [await StoreNumbers.AsignAsync(mage), await StoreNumberOutcomes.AsignAsync(mage)]);
            }
        }
        """);

    [Fact]
    public Task Untyped_swarms_and_callbacks_not_known_at_compile_time_report_nothing() => Verify.VerifyAsync(Batch + """
        public static class Pipeline
        {
            public static Task SwarmAsync<TResult>(IEnumerable<TaskSignature>? successCallbacks = null) => Task.CompletedTask;
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage, TaskSignature[] more)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                TaskSignature untyped = confirm;
                var byName = await mage.AsignAsync("send-confirmation", new { template = "welcome" });
                var typedByName = await mage.AsignAsync<ConfirmationMessage>("send-confirmation");
                await mage.SwarmAsync(successCallbacks: [confirm]);
                await mage.SwarmAsync<OrderReceipt>(successCallbacks: [untyped, byName, typedByName, .. more]);
                await Pipeline.SwarmAsync<OrderReceipt>(successCallbacks: [confirm]);
            }
        }
        """);

    [Fact]
    public Task Callbacks_and_items_in_a_local_assigned_once_are_reported_in_its_initializer() => Verify.VerifyAsync(Batch + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                var process = await ProcessOrder.AsignAsync(mage);
                var ship = await ShipOrder.AsignAsync(mage);
                TaskSignature[] callbacks = [{|#0:confirm|}];
                await mage.SwarmAsync<OrderReceipt>(successCallbacks: callbacks);
                var swarm = await mage.SwarmAsync<OrderReceipt>();
                var items = new List<TaskSignature> { process, {|#1:ship|} };
                await swarm.AddAsync(items);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.ReturnValueTypeMismatch).WithLocation(0)
                .WithArguments("swarm", Receipts, "send-confirmation", "Receipt", "Shop.OrderReceipt?"),
            new DiagnosticResult(DiagnosticDescriptors.SwarmItemTypeMismatch).WithLocation(1)
                .WithArguments("ship-order", "Shop.ShipmentId", "Shop.OrderReceipt"),
        ]);

    [Fact]
    public Task Callbacks_and_items_in_a_local_that_may_change_report_nothing() => Verify.VerifyAsync(Batch + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage, List<TaskSignature> fromCaller)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                var process = await ProcessOrder.AsignAsync(mage);
                var ship = await ShipOrder.AsignAsync(mage);
                List<TaskSignature> callbacks = [confirm];
                callbacks.RemoveAt(0);
                await mage.SwarmAsync<OrderReceipt>(successCallbacks: callbacks);
                var swarm = await mage.SwarmAsync<OrderReceipt>();
                var items = new List<TaskSignature> { ship };
                items[0] = process;
                await swarm.AddAsync(items);
                await swarm.AddAsync(fromCaller);
            }
        }
        """);

    [Fact]
    public Task Success_callback_without_a_return_member_drops_the_results() => Verify.VerifyAsync(Batch + """
        public sealed record BatchLog(string Channel);
        public static class MoreTasks { [MageTask] public static void LogBatch(BatchLog message) { } }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var log = await LogBatch.AsignAsync(mage, channel: "ops");
                await mage.SwarmAsync<OrderReceipt>(successCallbacks: [{|#0:log|}]);
            }
        }
        """,
        [new DiagnosticResult(DiagnosticDescriptors.ReturnValueDropped).WithLocation(0).WithArguments("swarm", Receipts, "log-batch", "Shop.BatchLog")]);

    [Fact]
    public Task Success_callback_without_a_return_member_is_fixed_when_one_member_holds_the_results() =>
        CodeFixVerifier<SwarmAnalyzer, AddReturnValueCodeFixProvider>.VerifyAsync(
            Batch + """
                public sealed record BatchLog(IReadOnlyList<OrderReceipt>? Receipts, string Channel);
                public sealed record OutcomeLog(SwarmResults<OrderReceipt>? Outcomes, string Channel);
                public sealed record BothLog(OrderReceipt[]? Receipts, SwarmResults<OrderReceipt>? Outcomes);
                public static class MoreTasks
                {
                    [MageTask] public static void LogBatch(BatchLog message) { }
                    [MageTask] public static void LogOutcomes(OutcomeLog message) { }
                    [MageTask] public static void LogBoth(BothLog message) { }
                }

                public static class Flow
                {
                    public static async Task Run(IMageFlow mage)
                    {
                        var log = await LogBatch.AsignAsync(mage, channel: "ops");
                        var outcomes = await LogOutcomes.AsignAsync(mage, channel: "ops");
                        var both = await LogBoth.AsignAsync(mage);
                        await mage.SwarmAsync<OrderReceipt>(successCallbacks: [{|MAGE002:log|}, {|MAGE002:outcomes|}, {|MAGE002:both|}]);
                    }
                }
                """,
            Batch + """
                public sealed record BatchLog([property: ReturnValue] IReadOnlyList<OrderReceipt>? Receipts, string Channel);
                public sealed record OutcomeLog([property: ReturnValue] SwarmResults<OrderReceipt>? Outcomes, string Channel);
                public sealed record BothLog(OrderReceipt[]? Receipts, SwarmResults<OrderReceipt>? Outcomes);
                public static class MoreTasks
                {
                    [MageTask] public static void LogBatch(BatchLog message) { }
                    [MageTask] public static void LogOutcomes(OutcomeLog message) { }
                    [MageTask] public static void LogBoth(BothLog message) { }
                }

                public static class Flow
                {
                    public static async Task Run(IMageFlow mage)
                    {
                        var log = await LogBatch.AsignAsync(mage, channel: "ops");
                        var outcomes = await LogOutcomes.AsignAsync(mage, channel: "ops");
                        var both = await LogBoth.AsignAsync(mage);
                        await mage.SwarmAsync<OrderReceipt>(successCallbacks: [log, outcomes, {|MAGE002:both|}]);
                    }
                }
                """);

    [Fact]
    public Task Item_whose_result_the_swarm_cannot_hold_is_reported_with_both_types() => Verify.VerifyAsync(Batch + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var process = await ProcessOrder.AsignAsync(mage);
                var ship = await ShipOrder.AsignAsync(mage, carrier: "post");
                var swarm = await mage.SwarmAsync<OrderReceipt>(new SwarmOptions { MaxConcurrency = 10 });
                await swarm.AddAsync({|#0:ship|});
                await swarm.RunInSwarmAsync({|#1:await ShipOrder.AsignAsync(mage)|}, new ShipMessage("o-1"));
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.SwarmItemTypeMismatch).WithLocation(0)
                .WithArguments("ship-order", "Shop.ShipmentId", "Shop.OrderReceipt"),
            new DiagnosticResult(DiagnosticDescriptors.SwarmItemTypeMismatch).WithLocation(1)
                .WithArguments("ship-order", "Shop.ShipmentId", "Shop.OrderReceipt"),
        ]);

    [Fact]
    public Task Items_are_read_from_collections_and_any_typed_swarm_receiver() => Verify.VerifyAsync(Batch + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage, SwarmSignature<OrderReceipt> given, TaskSignature[] more)
            {
                var process = await ProcessOrder.AsignAsync(mage);
                var ship = await ShipOrder.AsignAsync(mage);
                var swarm = await mage.SwarmAsync<OrderReceipt>();
                await swarm.AddAsync([process, {|MAGE007:ship|}, .. more]);
                await swarm.AddAsync(new TaskSignature[] { {|MAGE007:ship|}, process });
                await swarm.AddAsync(items: new List<TaskSignature> { {|MAGE007:await ShipOrder.AsignAsync(mage)|} });
                await given.AddAsync({|MAGE007:ship|});
                await (await mage.SwarmAsync<OrderReceipt>()).AddAsync({|MAGE007:ship|});
            }
        }
        """);

    [Fact]
    public Task Item_returning_nothing_fits_only_a_nullable_result_type() => Verify.VerifyAsync(Batch + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var archive = await ArchiveOrder.AsignAsync(mage);
                var strict = await mage.SwarmAsync<OrderReceipt>();
                var counted = await mage.SwarmAsync<int>();
                var lenient = await mage.SwarmAsync<OrderReceipt?>();
                var countedOrNot = await mage.SwarmAsync<int?>();
                await strict.AddAsync({|#0:archive|});
                await counted.AddAsync({|#1:archive|});
                await lenient.AddAsync(archive);
                await countedOrNot.AddAsync(archive);
            }
        }
        """,
        [
            new DiagnosticResult(DiagnosticDescriptors.SwarmItemTypeMismatch).WithLocation(0).WithArguments("archive-order", "void", "Shop.OrderReceipt"),
            new DiagnosticResult(DiagnosticDescriptors.SwarmItemTypeMismatch).WithLocation(1).WithArguments("archive-order", "void", "int"),
        ]);

    [Fact]
    public Task Items_that_fit_the_result_type_report_nothing() => Verify.VerifyAsync(Batch + """
        public abstract record Document(string Id);
        public sealed record Invoice(string Id, decimal Total) : Document(Id);
        public static class MoreTasks
        {
            [MageTask] public static int Count(OrderMessage message) => 1;
            [MageTask] public static List<int> Numbers(OrderMessage message) => new();
            [MageTask] public static Invoice CreateInvoice(OrderMessage message) => new("i", 1m);
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var receipts = await mage.SwarmAsync<OrderReceipt>();
                await receipts.AddAsync(await ProcessOrder.AsignAsync(mage));
                await receipts.RunInSwarmAsync(await ProcessOrder.AsignAsync(mage), new OrderMessage("o-1", 12.5m));
                await (await mage.SwarmAsync<long>()).AddAsync(await Count.AsignAsync(mage));
                await (await mage.SwarmAsync<IReadOnlyList<long>>()).AddAsync(await Numbers.AsignAsync(mage));
                await (await mage.SwarmAsync<Document>()).AddAsync(await CreateInvoice.AsignAsync(mage));
                await (await mage.SwarmAsync<object>()).AddAsync([await ShipOrder.AsignAsync(mage), await ProcessOrder.AsignAsync(mage)]);
                await (await mage.SwarmAsync<System.Text.Json.JsonElement>()).AddAsync(await ShipOrder.AsignAsync(mage));
            }
        }
        """);

    [Fact]
    public Task Items_of_untyped_swarms_and_items_not_known_at_compile_time_report_nothing() => Verify.VerifyAsync(Batch + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage, TaskSignature[] more)
            {
                var ship = await ShipOrder.AsignAsync(mage);
                TaskSignature untyped = ship;
                var byName = await mage.AsignAsync("ship-order");
                var typedByName = await mage.AsignAsync<ShipMessage>("ship-order");
                var nested = await mage.ChainAsync([await ProcessOrder.AsignAsync(mage), ship]);
                var swarm = await mage.SwarmAsync<OrderReceipt>();
                await swarm.AddAsync(untyped);
                await swarm.AddAsync([byName, nested, .. more]);
                await swarm.RunInSwarmAsync(typedByName, new ShipMessage("o-1"));
                await swarm.AddAsync(more);
                await (await mage.SwarmAsync()).AddAsync(ship);
                SwarmSignature seenAsUntyped = swarm;
                await seenAsUntyped.AddAsync(ship);
            }
        }
        """);

    [Fact]
    public Task Pragma_suppresses() => Verify.VerifyAsync(Batch + """
        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                var swarm = await mage.SwarmAsync<OrderReceipt>();
        #pragma warning disable MAGE001, MAGE007 // a batch being migrated to typed callbacks
                var other = await mage.SwarmAsync<OrderReceipt>(successCallbacks: [confirm]);
                await swarm.AddAsync(await ShipOrder.AsignAsync(mage));
        #pragma warning restore MAGE001, MAGE007
            }
        }
        """);
}
