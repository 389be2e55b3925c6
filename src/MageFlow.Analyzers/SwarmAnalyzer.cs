using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace MageFlow.Analyzers;

/// <summary>
/// For a swarm whose items' result type is written in the code (<c>IMageFlow.SwarmAsync&lt;TResult&gt;</c>): MAGE001/MAGE002
/// at its success callbacks, which receive the list of results (or every item's outcome in a <c>SwarmResults&lt;T&gt;</c>
/// member), and MAGE007 at each item added to a <c>SwarmSignature&lt;TResult&gt;</c> whose return value TResult cannot hold.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SwarmAnalyzer : DiagnosticAnalyzer
{
    private const string SwarmMethodName = "SwarmAsync";
    private const string AddMethodName = "AddAsync";
    private const string RunInSwarmMethodName = "RunInSwarmAsync";
    private const string ItemParameter = "item";
    private const string ItemsParameter = "items";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.SwarmItemTypeMismatch,
        DiagnosticDescriptors.ReturnValueTypeMismatch,
        DiagnosticDescriptors.ReturnValueDropped);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (MageSymbols.TryCreate(start.Compilation) is not { GeneratedMageTaskAttribute: not null, MageFlowClient: not null, SwarmSignatureOfT: not null } symbols) return;
            start.RegisterOperationAction(operationContext => AnalyzeInvocation(operationContext, symbols), OperationKind.Invocation);
        });
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, MageSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;

        // the untyped SwarmAsync says nothing about its items' results: only SwarmAsync<TResult> is checked
        if (method is { Name: SwarmMethodName, TypeArguments: [var itemResultType] } && MageSymbols.Is(method.ContainingType, symbols.MageFlowClient))
        {
            ReturnValueFlow.CheckSuccessCallbacks(context, symbols, invocation, SentResult.OfSwarm(itemResultType, symbols));
            return;
        }

        // AddAsync and RunInSwarmAsync are declared on SwarmSignature: the result type is on the receiver's static type
        if (method.Name is AddMethodName or RunInSwarmMethodName
            && MageSymbols.Is(method.ContainingType, symbols.SwarmSignature)
            && invocation.Instance?.Type is INamedTypeSymbol { TypeArguments: [var swarmResultType] } swarm
            && MageSymbols.Is(swarm, symbols.SwarmSignatureOfT))
        {
            foreach (var item in Items(invocation, context.CancellationToken))
                CheckItem(context, symbols, swarmResultType, item);
        }
    }

    /// <summary>The items written out in the call: the one <c>item</c>, or the elements of <c>items</c>.</summary>
    private static IEnumerable<ExpressionSyntax> Items(IInvocationOperation invocation, CancellationToken cancellationToken) =>
        SignatureCollection.ArgumentExpression(invocation, ItemParameter) is { } item
            ? [item]
            : SignatureCollection.ArgumentExpression(invocation, ItemsParameter) is { } items
                ? SignatureCollection.Elements(items, invocation.SemanticModel!, cancellationToken).OfType<ExpressionSyntax>()
                : [];

    private static void CheckItem(OperationAnalysisContext context, MageSymbols symbols, ITypeSymbol swarmResultType, ExpressionSyntax element)
    {
        if (GeneratedTask.FromSignatureExpression(element, context.Operation.SemanticModel!, symbols, context.CancellationToken) is not { } item) return;
        var sent = SentResult.Of(item);
        if (ReturnValueFlow.Fits(sent, swarmResultType, symbols)) return;

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.SwarmItemTypeMismatch, element.GetLocation(),
            item.TaskName, ReturnValueFlow.DisplayResult(sent), ReturnValueFlow.Display(swarmResultType)));
    }
}
