using Microsoft.CodeAnalysis.Testing;
using Verify = MageFlow.Analyzers.Tests.AnalyzerVerifier<MageFlow.Analyzers.ReturnValueMemberAnalyzer>;

namespace MageFlow.Analyzers.Tests;

/// <summary>MAGE004: more than one [ReturnValue] member in a message type (base types included).</summary>
public sealed class MultipleReturnValueMembersTests
{
    private const string Header = """
        using MageFlow;

        namespace Shop;

        public record OrderReceipt(string OrderId, decimal Charged);

        """;

    [Fact]
    public Task Second_property_is_reported() => Verify.VerifyAsync(Header + """
        public sealed class ConfirmationMessage
        {
            [ReturnValue] public OrderReceipt? Receipt { get; set; }
            [{|MAGE004:ReturnValue|}] public OrderReceipt? Copy { get; set; }
            public string Template { get; set; } = "";
        }
        """);

    [Fact]
    public Task Positional_parameters_and_fields_are_reported_after_the_first() => Verify.VerifyAsync(Header + """
        public sealed record ConfirmationMessage([property: ReturnValue] OrderReceipt? Receipt, [{|MAGE004:ReturnValue|}] OrderReceipt? Copy)
        {
            [{|MAGE004:ReturnValue|}] public OrderReceipt? Third;
        }
        """);

    [Fact]
    public Task Member_added_in_a_derived_type_is_reported_on_the_derived_type() => Verify.VerifyAsync(Header + """
        public record BaseMessage([property: ReturnValue] OrderReceipt? Receipt);

        public sealed record DerivedMessage(OrderReceipt? Receipt, [property: {|MAGE004:ReturnValue|}] OrderReceipt? Other) : BaseMessage(Receipt);
        """);

    [Fact]
    public Task Message_names_the_kept_and_the_extra_member() => Verify.VerifyAsync(Header + """
        public sealed class ConfirmationMessage
        {
            [ReturnValue] public OrderReceipt? Receipt { get; set; }
            [{|#0:ReturnValue|}] public OrderReceipt? Copy { get; set; }
        }
        """,
        [new DiagnosticResult(DiagnosticDescriptors.MultipleReturnValueMembers).WithLocation(0).WithArguments("Shop.ConfirmationMessage", "Receipt", "Copy")]);

    [Fact]
    public Task One_member_reports_nothing() => Verify.VerifyAsync(Header + """
        public sealed record ConfirmationMessage([property: ReturnValue] OrderReceipt? Receipt, string Template);
        public sealed class AuditMessage { [ReturnValue] public OrderReceipt? Receipt; public string Source = ""; }
        """);

    [Fact]
    public Task Override_of_the_marked_member_reports_nothing() => Verify.VerifyAsync(Header + """
        public class BaseMessage { [ReturnValue] public virtual OrderReceipt? Receipt { get; set; } }
        public sealed class DerivedMessage : BaseMessage { [ReturnValue] public override OrderReceipt? Receipt { get; set; } }
        """);

    [Fact]
    public Task Same_member_marked_on_parameter_and_property_reports_nothing() => Verify.VerifyAsync(Header + """
        public sealed record ConfirmationMessage([ReturnValue][property: ReturnValue] OrderReceipt? Receipt, OrderReceipt? MageflowResults);
        """);

    [Fact]
    public Task Pragma_suppresses() => Verify.VerifyAsync(Header + """
        public sealed class ConfirmationMessage
        {
            [ReturnValue] public OrderReceipt? Receipt { get; set; }
        #pragma warning disable MAGE004
            [ReturnValue] public OrderReceipt? Copy { get; set; }
        #pragma warning restore MAGE004
        }
        """);
}
