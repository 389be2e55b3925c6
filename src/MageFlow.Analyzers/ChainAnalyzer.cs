using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace MageFlow.Analyzers;

/// <summary>
/// MAGE007 (a chain step cannot hold the previous step's return value) and MAGE001/MAGE002 for a chain's success
/// callbacks, which receive the last step's return value; checked at each <c>IMageFlow.ChainAsync</c> call (the client
/// implementation is internal: user code calls the interface).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ChainAnalyzer : DiagnosticAnalyzer
{
    private const string ChainMethodName = "ChainAsync";
    private const string StepsParameter = "steps";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.ChainStepTypeMismatch,
        DiagnosticDescriptors.ReturnValueTypeMismatch,
        DiagnosticDescriptors.ReturnValueDropped);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (MageSymbols.TryCreate(start.Compilation) is not { GeneratedMageTaskAttribute: not null, MageFlowClient: not null } symbols) return;
            start.RegisterOperationAction(operationContext => AnalyzeInvocation(operationContext, symbols), OperationKind.Invocation);
        });
    }

    /// <summary>A step as written: its syntax (null for a spread) and its generated task (null when not known at compile time).</summary>
    private readonly record struct Step(ExpressionSyntax? Element, GeneratedTask? Task);

    private static void AnalyzeInvocation(OperationAnalysisContext context, MageSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (invocation.TargetMethod.Name != ChainMethodName || !MageSymbols.Is(invocation.TargetMethod.ContainingType, symbols.MageFlowClient)) return;
        if (SignatureCollection.ArgumentExpression(invocation, StepsParameter) is not { } stepsSyntax) return;

        var steps = SignatureCollection.Elements(stepsSyntax, invocation.SemanticModel!, context.CancellationToken)
            .Select(element => new Step(
                element,
                element is null ? null : GeneratedTask.FromSignatureExpression(element, invocation.SemanticModel!, symbols, context.CancellationToken)))
            .ToList();

        for (var index = 1; index < steps.Count; index++)
        {
            if (steps[index - 1].Task is { } previous && steps[index] is { Task: { } step, Element: { } element })
                CheckStep(context, symbols, previous, step, element);
        }

        // the chain's success callbacks receive what its last step returns
        if (steps.Count > 0 && steps[^1].Task is { } last)
            ReturnValueFlow.CheckSuccessCallbacks(context, symbols, invocation, SentResult.Of(last));
    }

    private static void CheckStep(OperationAnalysisContext context, MageSymbols symbols, GeneratedTask previous, GeneratedTask step, ExpressionSyntax element)
    {
        // a step whose message has no receiving member runs without the previous result: nothing to read back
        if (MessageMembers.ReceivingMember(step.MessageType, symbols) is not { } member) return;
        var sent = SentResult.Of(previous);
        if (ReturnValueFlow.Fits(sent, member.Type, symbols)) return;

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.ChainStepTypeMismatch, element.GetLocation(),
            previous.TaskName, ReturnValueFlow.DisplayResult(sent), step.TaskName, member.Symbol.Name, ReturnValueFlow.Display(member.Type)));
    }
}
