using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace MageFlow.Analyzers;

/// <summary>
/// A result as it is passed on: <see cref="Sender"/> names what sends it in messages, <see cref="Type"/> is null for a
/// task that returns nothing. A swarm sends its items' results as a list, or every item's outcome into a
/// <c>SwarmResults&lt;T&gt;</c> member: <see cref="SwarmItemType"/> is then the type of each item's result.
/// </summary>
internal sealed record SentResult(string Sender, ITypeSymbol? Type, ITypeSymbol? SwarmItemType = null)
{
    /// <summary>A swarm has no task name of its own to show.</summary>
    private const string SwarmSender = "swarm";

    public static SentResult Of(GeneratedTask task) => new(task.TaskName, task.ResultType);

    /// <summary>What a swarm whose items return <paramref name="itemType"/> sends its success callbacks (never null: a list, maybe empty).</summary>
    public static SentResult OfSwarm(ITypeSymbol itemType, MageSymbols symbols) => new(
        SwarmSender,
        symbols.Compilation.GetSpecialType(SpecialType.System_Collections_Generic_IReadOnlyList_T).Construct(itemType),
        itemType);
}

/// <summary>
/// How a result reaches the signature that receives it (a success callback of a task, chain or swarm, the next step
/// of a chain): written into the receiving member of its message, <c>null</c> when the task returns nothing.
/// </summary>
internal static class ReturnValueFlow
{
    private const string SuccessCallbacksParameter = "successCallbacks";

    /// <summary>Whether a member of type <paramref name="memberType"/> reads back the result.</summary>
    public static bool Fits(SentResult result, ITypeSymbol memberType, MageSymbols symbols)
    {
        // the runtime writes every item's outcome into a SwarmResults<T> member: each item's result must fit T
        if (result.SwarmItemType is { } itemType && memberType is INamedTypeSymbol { TypeArguments: [var outcomeResultType] }
            && MageSymbols.Is(memberType, symbols.SwarmResults))
            return JsonTypeCompatibility.CanHold(itemType, outcomeResultType, symbols);

        return result.Type is { } resultType
            ? JsonTypeCompatibility.CanHold(resultType, memberType, symbols)
            : JsonTypeCompatibility.AcceptsNull(memberType, symbols);
    }

    public static string DisplayResult(SentResult result) => result.Type is { } resultType ? Display(resultType) : "void";

    public static string Display(ITypeSymbol type) => type.ToDisplayString();

    /// <summary>
    /// <see cref="CheckSuccessCallback"/> at each callback written out in the call's <c>successCallbacks:</c> argument
    /// (chains and swarms; the callbacks of a signed task are read with its error callbacks).
    /// </summary>
    public static void CheckSuccessCallbacks(OperationAnalysisContext context, MageSymbols symbols, IInvocationOperation invocation, SentResult result)
    {
        if (SignatureCollection.ArgumentExpression(invocation, SuccessCallbacksParameter) is not { } callbacks) return;
        foreach (var element in SignatureCollection.Elements(callbacks, invocation.SemanticModel!, context.CancellationToken).OfType<ExpressionSyntax>())
        {
            if (GeneratedTask.FromSignatureExpression(element, invocation.SemanticModel!, symbols, context.CancellationToken) is { } callback)
                CheckSuccessCallback(context, symbols, result, callback, element);
        }
    }

    /// <summary>MAGE001 when the callback's receiving member cannot hold the result, MAGE002 when a result has no receiving member.</summary>
    public static void CheckSuccessCallback(OperationAnalysisContext context, MageSymbols symbols, SentResult result, GeneratedTask callback, ExpressionSyntax element)
    {
        var receiving = MessageMembers.ReceivingMember(callback.MessageType, symbols);
        if (receiving is { } member)
        {
            if (!Fits(result, member.Type, symbols))
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.ReturnValueTypeMismatch, element.GetLocation(),
                    result.Sender, DisplayResult(result), callback.TaskName, member.Symbol.Name, Display(member.Type)));
            }
            return;
        }

        // a task that returns nothing passes null: with no receiving member nothing is dropped
        if (result.Type is not { } resultType) return;

        // the code fix marks the one member that can hold the value; with none or several there is no obvious fix
        var fitting = MessageMembers.SerializedMembers(callback.MessageType, symbols)
            .Where(m => IsWritable(m.Symbol) && Fits(result, m.Type, symbols))
            .ToList();
        var candidate = fitting.Count == 1 && fitting[0].Symbol.Locations.FirstOrDefault() is { IsInSource: true } declared
            ? declared
            : null;
        // the fix needs the member's declaration: it is passed as the additional location
        var properties = candidate is null
            ? ImmutableDictionary<string, string?>.Empty
            : ImmutableDictionary<string, string?>.Empty.Add(CallbackAnalyzer.ReturnValueCandidateProperty, fitting[0].Symbol.Name);
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.ReturnValueDropped, element.GetLocation(),
            candidate is null ? null : new[] { candidate }, properties,
            result.Sender, Display(resultType), callback.TaskName, Display(callback.MessageType)));
    }

    private static bool IsWritable(ISymbol member) => member switch
    {
        IPropertySymbol property => property.SetMethod is not null,
        IFieldSymbol field => !field.IsReadOnly && !field.IsConst,
        _ => false,
    };
}
