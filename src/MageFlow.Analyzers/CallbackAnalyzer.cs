using System;
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
/// MAGE001/MAGE002 (a success callback cannot hold, or drops, the task's return value) and MAGE003 (an error
/// callback's message has a required member with no source), checked at each callback of an <c>AsignAsync</c> call.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CallbackAnalyzer : DiagnosticAnalyzer
{
    private const string AsignMethodName = "AsignAsync";
    private const string SuccessCallbacksParameter = "successCallbacks";
    private const string ErrorCallbacksParameter = "errorCallbacks";
    private const string TaskNameParameter = "taskName";

    /// <summary>
    /// MAGE002 property: the name of the one message member whose type can hold the return value; the diagnostic's
    /// additional location is then that member's declaration.
    /// </summary>
    public const string ReturnValueCandidateProperty = "ReturnValueCandidate";

    /// <summary>Builder parameters that are not message members.</summary>
    private static readonly ImmutableHashSet<string> NonKwargParameters =
        ImmutableHashSet.Create(StringComparer.Ordinal, "mage", SuccessCallbacksParameter, ErrorCallbacksParameter, "cancellationToken");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.ReturnValueTypeMismatch,
        DiagnosticDescriptors.ReturnValueDropped,
        DiagnosticDescriptors.ErrorCallbackMemberWithoutSource);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (MageSymbols.TryCreate(start.Compilation) is not { GeneratedMageTaskAttribute: not null } symbols) return;
            var tasksByName = new Lazy<Dictionary<string, GeneratedTask>>(
                () => GeneratedTask.IndexByName(start.Compilation, symbols), LazyThreadSafetyMode.ExecutionAndPublication);
            start.RegisterOperationAction(
                operationContext => AnalyzeInvocation(operationContext, symbols, tasksByName),
                OperationKind.Invocation);
        });
    }

    /// <summary>The task being signed: its recorded shape where known, and the message type of its runs.</summary>
    private readonly record struct SignedTask(GeneratedTask? Task, INamedTypeSymbol? MessageType);

    private static void AnalyzeInvocation(OperationAnalysisContext context, MageSymbols symbols, Lazy<Dictionary<string, GeneratedTask>> tasksByName)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.Name != AsignMethodName) return;
        if (ResolveSignedTask(invocation, symbols, tasksByName) is not { } signed) return;

        foreach (var argument in invocation.Arguments)
        {
            if (argument.ArgumentKind != ArgumentKind.Explicit || argument.Parameter is null) continue;
            var isSuccess = argument.Parameter.Name == SuccessCallbacksParameter;
            if (!isSuccess && argument.Parameter.Name != ErrorCallbacksParameter) continue;
            if (argument.Syntax is not ArgumentSyntax { Expression: var collection }) continue;

            var semanticModel = invocation.SemanticModel!;
            foreach (var element in SignatureCollection.Elements(collection, semanticModel, context.CancellationToken).OfType<ExpressionSyntax>())
            {
                if (GeneratedTask.FromSignatureExpression(element, semanticModel, symbols, context.CancellationToken) is not { } callback) continue;

                if (!isSuccess)
                    AnalyzeErrorCallback(context, symbols, signed, callback, element, semanticModel);
                // without the signed task's result type there is nothing to compare
                else if (signed.Task is { } task)
                    ReturnValueFlow.CheckSuccessCallback(context, symbols, SentResult.Of(task), callback, element);
            }
        }
    }

    private static SignedTask? ResolveSignedTask(IInvocationOperation invocation, MageSymbols symbols, Lazy<Dictionary<string, GeneratedTask>> tasksByName)
    {
        var method = invocation.TargetMethod;
        if (GeneratedTask.FromBuilder(method.ContainingType, symbols) is { } generated)
            return new SignedTask(generated, generated.MessageType);

        // untyped signing by name: the generated task of that name (if any) decides, an explicit TMessage overrides the message
        if (!MageSymbols.Is(method.ContainingType, symbols.MageFlowClient) && !MageSymbols.Is(method.ContainingType, symbols.AmbientMage)) return null;
        var nameArgument = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == TaskNameParameter);
        GeneratedTask? byName = null;
        if (nameArgument?.Value.ConstantValue is { HasValue: true, Value: string taskName })
            tasksByName.Value.TryGetValue(taskName, out byName);
        var explicitMessage = method.IsGenericMethod ? method.TypeArguments[0] as INamedTypeSymbol : null;
        return new SignedTask(byName, explicitMessage ?? byName?.MessageType);
    }

    private static void AnalyzeErrorCallback(
        OperationAnalysisContext context, MageSymbols symbols, SignedTask signed, GeneratedTask callback, ExpressionSyntax element, SemanticModel semanticModel)
    {
        if (signed.MessageType is not { } failedMessage) return;
        // which kwargs the callback binds is known only when its signing call can be found; otherwise stay silent
        if (BoundKwargs(element, semanticModel, context.CancellationToken) is not { } bound) return;

        var failedMembers = MageSymbols.Is(failedMessage, symbols.NoMessage)
            ? new List<MessageMember>()
            : MessageMembers.SerializedMembers(failedMessage, symbols);

        foreach (var required in MessageMembers.RequiredMembers(callback.MessageType, symbols))
        {
            if (bound.Contains(required.Symbol.Name)) continue;
            var fromFailedMessage = failedMembers.Any(m =>
                string.Equals(m.WireName, required.WireName, StringComparison.OrdinalIgnoreCase)
                && JsonTypeCompatibility.CanHold(m.Type, required.Type, symbols));
            if (fromFailedMessage) continue;

            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.ErrorCallbackMemberWithoutSource,
                element.GetLocation(),
                callback.TaskName,
                required.Symbol.Name,
                ReturnValueFlow.Display(callback.MessageType),
                ReturnValueFlow.Display(failedMessage),
                required.WireName));
        }
    }

    /// <summary>
    /// The kwargs (as member names, any case) bound where the callback was signed: the element is the
    /// <c>await X.AsignAsync(…)</c> itself, or a local assigned exactly once from it whose kwargs are not updated later. Null when unknown.
    /// </summary>
    private static HashSet<string>? BoundKwargs(ExpressionSyntax element, SemanticModel semanticModel, CancellationToken cancellationToken)
    {
        var operation = semanticModel.GetOperation(element, cancellationToken);
        for (var hops = 0; operation is not null && hops < 8; hops++)
        {
            switch (operation)
            {
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    break;
                case IParenthesizedOperation parenthesized:
                    operation = parenthesized.Operand;
                    break;
                case IAwaitOperation awaited:
                    operation = awaited.Operation;
                    break;
                case IInvocationOperation { TargetMethod.Name: "ConfigureAwait", Instance: { } awaitable }:
                    operation = awaitable;
                    break;
                case IInvocationOperation { TargetMethod.Name: AsignMethodName } signing:
                    return new HashSet<string>(
                        signing.Arguments
                            .Where(a => a.ArgumentKind == ArgumentKind.Explicit && a.Parameter is { } p && !NonKwargParameters.Contains(p.Name))
                            .Select(a => a.Parameter!.Name),
                        StringComparer.OrdinalIgnoreCase);
                // kwargs updated later may arrive as an object or dictionary built at run time: what they bind is unknown
                case ILocalReferenceOperation localReference when SignatureCollection.HasKwargsUpdated(localReference.Local, semanticModel, cancellationToken):
                    return null;
                case ILocalReferenceOperation localReference:
                    operation = SignatureCollection.InitializerOfLocalAssignedOnce(localReference.Local, semanticModel, cancellationToken) is { } initializer
                        ? semanticModel.GetOperation(initializer, cancellationToken)
                        : null;
                    break;
                default:
                    return null;
            }
        }
        return null;
    }
}
