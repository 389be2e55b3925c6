using MageFlow.Analyzers.CodeFixes;

namespace MageFlow.Analyzers.Tests;

/// <summary>The code fixes: each diagnostic fixed one at a time and with Fix All (the testing framework runs both).</summary>
public sealed class CodeFixTests
{
    private const string ShipFlow = """
        public static class MoreTasks
        {
            [MageTask] public static void Ship(ShipMessage message) { }
            [MageTask] public static void Archive(ArchiveMessage message) { }
            [MageTask] public static int Count(OrderMessage message) => 1;
        }

        public static class Flow
        {
            public static async Task Run(IMageFlow mage)
            {
                var ship = await Ship.AsignAsync(mage, carrier: "post");
                var archive = await Archive.AsignAsync(mage, folder: "orders");
                await ProcessOrder.AsignAsync(mage, successCallbacks: [MARK_SHIP, MARK_ARCHIVE]);
            }
        }
        """;

    [Fact]
    public Task Return_value_dropped_marks_the_one_fitting_member() =>
        CodeFixVerifier<CallbackAnalyzer, AddReturnValueCodeFixProvider>.VerifyAsync(
            ShopModel.Declarations + """
                public sealed record ShipMessage(OrderReceipt? Receipt, string Carrier);

                public sealed class ArchiveMessage
                {
                    public string Folder { get; set; } = "";

                    public OrderReceipt? Stored { get; set; }
                }

                """ + ShipFlow.Replace("MARK_SHIP", "{|MAGE002:ship|}").Replace("MARK_ARCHIVE", "{|MAGE002:archive|}"),
            ShopModel.Declarations + """
                public sealed record ShipMessage([property: ReturnValue] OrderReceipt? Receipt, string Carrier);

                public sealed class ArchiveMessage
                {
                    public string Folder { get; set; } = "";

                    [ReturnValue]
                    public OrderReceipt? Stored { get; set; }
                }

                """ + ShipFlow.Replace("MARK_SHIP", "ship").Replace("MARK_ARCHIVE", "archive"));

    [Fact]
    public Task Return_value_dropped_offers_no_fix_when_several_members_fit() =>
        CodeFixVerifier<CallbackAnalyzer, AddReturnValueCodeFixProvider>.VerifyAsync(
            ShopModel.Declarations + """
                public sealed record ShipMessage(OrderReceipt? Receipt, string Carrier);
                public sealed record ArchiveMessage(OrderReceipt? Stored, string Folder, object? Extra);

                """ + ShipFlow.Replace("MARK_SHIP", "{|MAGE002:ship|}").Replace("MARK_ARCHIVE", "{|MAGE002:archive|}"),
            ShopModel.Declarations + """
                public sealed record ShipMessage([property: ReturnValue] OrderReceipt? Receipt, string Carrier);
                public sealed record ArchiveMessage(OrderReceipt? Stored, string Folder, object? Extra);

                """ + ShipFlow.Replace("MARK_SHIP", "ship").Replace("MARK_ARCHIVE", "{|MAGE002:archive|}"));

    [Fact]
    public Task Return_value_dropped_marks_a_field() =>
        CodeFixVerifier<CallbackAnalyzer, AddReturnValueCodeFixProvider>.VerifyAsync(
            ShopModel.Declarations + """
                public sealed class LedgerMessage
                {
                    public string Account = "";
                    public OrderReceipt? Entry;
                }

                public static class LedgerTasks { [MageTask] public static void Book(LedgerMessage message) { } }

                public static class Flow
                {
                    public static async Task Run(IMageFlow mage) =>
                        await ProcessOrder.AsignAsync(mage, successCallbacks: [{|MAGE002:await Book.AsignAsync(mage, account: "sales")|}]);
                }
                """,
            ShopModel.Declarations + """
                public sealed class LedgerMessage
                {
                    public string Account = "";
                    [ReturnValue]
                    public OrderReceipt? Entry;
                }

                public static class LedgerTasks { [MageTask] public static void Book(LedgerMessage message) { } }

                public static class Flow
                {
                    public static async Task Run(IMageFlow mage) =>
                        await ProcessOrder.AsignAsync(mage, successCallbacks: [await Book.AsignAsync(mage, account: "sales")]);
                }
                """);

    [Fact]
    public Task Return_value_dropped_fixes_the_message_in_its_own_document()
    {
        const string messages = """
            using MageFlow;

            namespace Shop;

            public sealed record ShipMessage(OrderReceipt? Receipt, string Carrier);
            """;
        const string flow = """
            public static class MoreTasks { [MageTask] public static void Ship(ShipMessage message) { } }

            public static class Flow
            {
                public static async Task Run(IMageFlow mage) =>
                    await ProcessOrder.AsignAsync(mage, successCallbacks: [MARK]);
            }
            """;
        return CodeFixVerifier<CallbackAnalyzer, AddReturnValueCodeFixProvider>.VerifyAsync(
            ShopModel.Declarations + flow.Replace("MARK", "{|MAGE002:await Ship.AsignAsync(mage, carrier: \"post\")|}"),
            ShopModel.Declarations + flow.Replace("MARK", "await Ship.AsignAsync(mage, carrier: \"post\")"),
            messages,
            messages.Replace("ShipMessage(OrderReceipt?", "ShipMessage([property: ReturnValue] OrderReceipt?"));
    }

    [Fact]
    public Task Extra_return_value_attributes_are_removed() =>
        CodeFixVerifier<ReturnValueMemberAnalyzer, RemoveExtraReturnValueCodeFixProvider>.VerifyAsync(
            """
            using MageFlow;

            namespace Shop;

            public sealed record Receipt(string Id);

            public sealed record ConfirmationMessage([property: ReturnValue] Receipt? First, [{|MAGE004:ReturnValue|}] Receipt? Second, string Template);

            public sealed class AuditMessage
            {
                [ReturnValue] public Receipt? First { get; set; }

                [{|MAGE004:ReturnValue|}]
                public Receipt? Second { get; set; }

                [System.Obsolete, {|MAGE004:ReturnValue|}] public Receipt? Third { get; set; }
            }
            """,
            """
            using MageFlow;

            namespace Shop;

            public sealed record Receipt(string Id);

            public sealed record ConfirmationMessage([property: ReturnValue] Receipt? First, Receipt? Second, string Template);

            public sealed class AuditMessage
            {
                [ReturnValue] public Receipt? First { get; set; }

                public Receipt? Second { get; set; }

                [System.Obsolete] public Receipt? Third { get; set; }
            }
            """);

    [Fact]
    public void Both_fixes_fix_all_in_one_batch()
    {
        Assert.Same(Microsoft.CodeAnalysis.CodeFixes.WellKnownFixAllProviders.BatchFixer, new AddReturnValueCodeFixProvider().GetFixAllProvider());
        Assert.Same(Microsoft.CodeAnalysis.CodeFixes.WellKnownFixAllProviders.BatchFixer, new RemoveExtraReturnValueCodeFixProvider().GetFixAllProvider());
    }
}
