using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace MageFlow.Analyzers;

/// <summary>
/// How a finished task's return value reaches the signature that receives it (a success callback, the next step of
/// a chain): written into the receiving member of its message, <c>null</c> when the task returns nothing.
/// </summary>
internal static class ReturnValueFlow
{
    /// <summary>Whether a member of type <paramref name="memberType"/> reads back the result (<c>null</c> for a task that returns nothing).</summary>
    public static bool Fits(GeneratedTask sender, ITypeSymbol memberType, MageSymbols symbols) =>
        sender.ResultType is { } resultType
            ? JsonTypeCompatibility.CanHold(resultType, memberType, symbols)
            : JsonTypeCompatibility.AcceptsNull(memberType, symbols);

    public static string DisplayResult(GeneratedTask sender) => sender.ResultType is { } resultType ? Display(resultType) : "void";

    public static string Display(ITypeSymbol type) => type.ToDisplayString();

    /// <summary>MAGE001 when the callback's receiving member cannot hold the task's result, MAGE002 when a result has no receiving member.</summary>
    public static void CheckSuccessCallback(OperationAnalysisContext context, MageSymbols symbols, GeneratedTask task, GeneratedTask callback, ExpressionSyntax element)
    {
        var receiving = MessageMembers.ReceivingMember(callback.MessageType, symbols);
        if (receiving is { } member)
        {
            if (!Fits(task, member.Type, symbols))
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.ReturnValueTypeMismatch, element.GetLocation(),
                    task.TaskName, DisplayResult(task), callback.TaskName, member.Symbol.Name, Display(member.Type)));
            }
            return;
        }

        // a task that returns nothing passes null: with no receiving member nothing is dropped
        if (task.ResultType is not { } resultType) return;

        // the code fix marks the one member that can hold the value; with none or several there is no obvious fix
        var fitting = MessageMembers.SerializedMembers(callback.MessageType, symbols)
            .Where(m => IsWritable(m.Symbol) && JsonTypeCompatibility.CanHold(resultType, m.Type, symbols))
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
            task.TaskName, Display(resultType), callback.TaskName, Display(callback.MessageType)));
    }

    private static bool IsWritable(ISymbol member) => member switch
    {
        IPropertySymbol property => property.SetMethod is not null,
        IFieldSymbol field => !field.IsReadOnly && !field.IsConst,
        _ => false,
    };
}
