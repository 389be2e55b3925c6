using System.Runtime.CompilerServices;
using MageFlow.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests;

/// <summary>The example of contract.md §1, and the calls of §2 made against what the generator emits for it.</summary>
public sealed class ContractExampleTests
{
    private const string Declarations = """
        using System.Threading;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public record OrderMessage(string OrderId, decimal Amount, string? Priority = null);
        public sealed record OrderReceipt(string OrderId, decimal Charged);

        public sealed record ConfirmationMessage([property: ReturnValue] OrderReceipt? Receipt, string Template);

        public sealed record AuditMessage(OrderReceipt? MageflowResults, string Source);

        public record OrderFailedMessage(string OrderId, decimal Amount, string? Priority, string Channel)
            : OrderMessage(OrderId, Amount, Priority);

        public interface IPaymentGateway
        {
            Task<OrderReceipt> ChargeAsync(OrderMessage message, CancellationToken cancellationToken);
        }

        public static class OrderTasks
        {
            [MageTask("process-order", Retries = 2)]
            public static async Task<OrderReceipt> ProcessOrder(OrderMessage message, CancellationToken ct)
            {
                await Task.Delay(1, ct);
                return new OrderReceipt(message.OrderId, message.Amount);
            }

            [MageTask]
            public static Task SendConfirmation(ConfirmationMessage message) => Task.CompletedTask;

            [MageTask]
            public static Task Audit(AuditMessage message) => Task.CompletedTask;

            [MageTask]
            public static Task NotifyFailure(OrderFailedMessage message) => Task.CompletedTask;
        }

        public sealed class Billing(IPaymentGateway gateway)
        {
            [MageTask] public Task<OrderReceipt> Charge(OrderMessage message, CancellationToken ct) => gateway.ChargeAsync(message, ct);
        }
        """;

    // The calls of contract.md §2, verbatim where the contract spells them out.
    private const string Usage = """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class Checkout
        {
            public const string ProcessOrderName = ProcessOrder.TaskName;

            public static async Task<SignatureStatus> PlaceOrder(IMageFlow mage)
            {
                var confirm = await SendConfirmation.AsignAsync(mage, template: "welcome");
                var audit   = await Audit.AsignAsync(mage, source: "checkout");
                var notify  = await NotifyFailure.AsignAsync(mage, channel: "email");

                var order = await ProcessOrder.AsignAsync(mage,
                    successCallbacks: [confirm, audit],
                    errorCallbacks: [notify]);

                await order.Kwargs.UpdateAsync(priority: "high");
                await order.RunAsync(new OrderMessage("o-1", 12.5m));
                SignatureStatus s = await order.GetStatusAsync();
                return s;
            }

            public static async Task<string> WithAmbientClient()
            {
                var confirm = await SendConfirmation.AsignAsync(template: "welcome");
                var charge = await Charge.AsignAsync(orderId: "o-2", amount: 3m, priority: null);
                return $"{confirm.Id} {confirm.TaskName} {charge.TaskName}";
            }
        }
        """;

    [Fact]
    public void Generated_code_for_the_contract_example_has_no_diagnostics_at_all()
    {
        var run = GeneratorAssert.Generates([Declarations]);

        GeneratorAssert.NoDiagnostics(run.Output, DiagnosticSeverity.Info);
    }

    [Fact]
    public void Contract_calls_compile_against_the_generated_builders()
    {
        var run = GeneratorRun.Start(TestCompilation.Create(Declarations, Usage));

        GeneratorAssert.NoGeneratorFailures(run);
        GeneratorAssert.NoDiagnostics(run.Output, DiagnosticSeverity.Info);
    }

    [Fact]
    public void Builders_carry_task_names_as_constants()
    {
        var run = GeneratorRun.Start(TestCompilation.Create(Declarations));

        Assert.Equal(
            [("Charge", "charge"), ("Audit", "audit"), ("NotifyFailure", "notify-failure"), ("ProcessOrder", "process-order"), ("SendConfirmation", "send-confirmation")],
            new[] { "Charge", "Audit", "NotifyFailure", "ProcessOrder", "SendConfirmation" }
                .Select(builder => (builder, TaskNameConstant(run.Output, $"Shop.{builder}"))));
    }

    [Fact]
    public void Loading_the_compiled_example_registers_every_task_with_its_options()
    {
        var assembly = CompiledAssembly.Load(GeneratorRun.Start(TestCompilation.Create(Declarations)).Output);
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        var registered = MageTaskCatalog.Snapshot()
            .Where(descriptor => descriptor.MessageType.Assembly == assembly)
            .ToDictionary(descriptor => descriptor.Name);

        Assert.Equal(["audit", "charge", "notify-failure", "process-order", "send-confirmation"], registered.Keys.Order(StringComparer.Ordinal));

        var processOrder = registered["process-order"];
        Assert.Equal("Shop.OrderMessage", processOrder.MessageType.FullName);
        Assert.Equal("Shop.OrderReceipt", processOrder.ResultType?.FullName);
        Assert.Equal(3, processOrder.MaxAttempts);

        Assert.Null(registered["send-confirmation"].ResultType);
        Assert.Equal(MageJson.WireName("Receipt"), registered["send-confirmation"].Options.ReturnField);
        Assert.Equal(MageJson.FallbackReturnField, registered["audit"].Options.ReturnField);
        Assert.Equal("Shop.OrderFailedMessage", registered["notify-failure"].MessageType.FullName);
        Assert.Equal(1, registered["charge"].MaxAttempts);
    }

    [Fact]
    public void Output_does_not_depend_on_file_order()
    {
        const string moreTasks = """
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop.Returns;

            public static class ReturnTasks
            {
                [MageTask]
                public static Task AcceptReturn(global::Shop.OrderMessage message) => Task.CompletedTask;
            }
            """;

        var forward = GeneratorRun.Start(TestCompilation.Create(Declarations, moreTasks)).GeneratedSources;
        var backward = GeneratorRun.Start(TestCompilation.Create(moreTasks, Declarations)).GeneratedSources;

        Assert.Equal(forward.Select(s => s.HintName), backward.Select(s => s.HintName));
        Assert.All(forward.Zip(backward), pair => Assert.Equal(pair.First.SourceText.ToString(), pair.Second.SourceText.ToString()));
    }

    [Fact]
    public void Generated_public_API_is_documented()
    {
        // As with GenerateDocumentationFile=true: undocumented public members of generated code warn (CS1591).
        var options = TestCompilation.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);
        // The pragma covers the user's file only, so what is left can only come from generated files.
        var run = GeneratorRun.Start(TestCompilation.Create(options, "#pragma warning disable CS1591\n" + Declarations));

        GeneratorAssert.NoGeneratorFailures(run);
        Assert.NotEmpty(run.GeneratedSources);
        GeneratorAssert.CompilesCleanly(run.Output);
    }

    [Fact]
    public void Task_name_with_XML_characters_keeps_doc_comments_well_formed()
    {
        var options = TestCompilation.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);
        var run = GeneratorRun.Start(TestCompilation.Create(options, """
            #pragma warning disable CS1591
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public sealed record PingMessage(string Text);

            public static class PingTasks
            {
                [MageTask("ping<v2>&more")]
                public static Task Ping(PingMessage message) => Task.CompletedTask;
            }
            """));

        GeneratorAssert.NoGeneratorFailures(run);
        Assert.NotEmpty(run.GeneratedSources);
        GeneratorAssert.CompilesCleanly(run.Output);
    }

    [Fact]
    public void Generated_code_compiles_as_CSharp_12()
    {
        // The generator supports Roslyn 4.8 hosts, whose newest language is C# 12; projects may also pin LangVersion.
        var options = TestCompilation.ParseOptions.WithLanguageVersion(LanguageVersion.CSharp12);
        var run = GeneratorRun.Start(TestCompilation.Create(options, Declarations));

        GeneratorAssert.NoGeneratorFailures(run);
        Assert.NotEmpty(run.GeneratedSources);
        GeneratorAssert.CompilesCleanly(run.Output);
    }

    [Fact]
    public void Generated_code_compiles_in_a_project_with_nullable_disabled()
    {
        var compilation = TestCompilation.Create("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using MageFlow;

            namespace Legacy;

            public sealed class ImportMessage
            {
                public string File { get; set; }
                public List<string> Tags { get; set; }
                [ReturnValue] public ImportResult Previous { get; set; }
            }

            public sealed class ImportResult
            {
                public int Rows { get; set; }
            }

            public static class ImportTasks
            {
                [MageTask]
                public static Task<ImportResult> Import(ImportMessage message) => Task.FromResult(new ImportResult());
            }
            """);
        var run = GeneratorRun.Start(compilation.WithOptions(compilation.Options.WithNullableContextOptions(NullableContextOptions.Disable)));

        GeneratorAssert.NoGeneratorFailures(run);
        Assert.NotEmpty(run.GeneratedSources);
        GeneratorAssert.CompilesCleanly(run.Output);
    }

    private static string? TaskNameConstant(Compilation compilation, string builderMetadataName)
    {
        var builder = compilation.GetTypeByMetadataName(builderMetadataName)
                      ?? throw new XunitException($"No generated type {builderMetadataName}.");
        var field = builder.GetMembers("TaskName").OfType<IFieldSymbol>().SingleOrDefault()
                    ?? throw new XunitException($"{builderMetadataName} has no TaskName field.");
        Assert.True(field.IsConst, $"{builderMetadataName}.TaskName is not a const.");
        return field.ConstantValue as string;
    }
}
