using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MageFlow.Analyzers;

/// <summary>What the generator recorded about a task on its builder class (<c>[GeneratedMageTask]</c>).</summary>
/// <param name="Builder">The generated static class, e.g. <c>ProcessOrder</c>.</param>
/// <param name="ResultType">Null when the task returns nothing.</param>
internal sealed record GeneratedTask(INamedTypeSymbol Builder, string TaskName, INamedTypeSymbol MessageType, ITypeSymbol? ResultType)
{
    public static GeneratedTask? FromBuilder(INamedTypeSymbol? builder, MageSymbols symbols)
    {
        if (builder is null || MageSymbols.FindAttribute(builder, symbols.GeneratedMageTaskAttribute) is not { } attribute) return null;
        if (attribute.ConstructorArguments is not [{ Value: string taskName }, { Value: INamedTypeSymbol messageType }, var result, ..]) return null;
        var resultType = result.Value as ITypeSymbol;
        if (resultType?.SpecialType == SpecialType.System_Void) resultType = null;
        return new GeneratedTask(builder, taskName, messageType, resultType);
    }

    /// <summary>The task whose signature type (<c>ProcessOrder.Signature</c>) is <paramref name="signatureType"/>.</summary>
    public static GeneratedTask? FromSignatureType(ITypeSymbol? signatureType, MageSymbols symbols) =>
        signatureType is INamedTypeSymbol { ContainingType: { } builder } ? FromBuilder(builder, symbols) : null;

    /// <summary>The task of the signature <paramref name="expression"/> evaluates to, known by its static type (null for a plain <c>TaskSignature</c>).</summary>
    public static GeneratedTask? FromSignatureExpression(ExpressionSyntax expression, SemanticModel semanticModel, MageSymbols symbols, CancellationToken cancellationToken) =>
        FromSignatureType(semanticModel.GetTypeInfo(expression, cancellationToken).Type, symbols);

    /// <summary>The generated tasks of the compilation's own assembly by name, for signing by name (<c>mage.AsignAsync("process-order", …)</c>).</summary>
    public static Dictionary<string, GeneratedTask> IndexByName(Compilation compilation, MageSymbols symbols)
    {
        var index = new Dictionary<string, GeneratedTask>(System.StringComparer.Ordinal);
        var pending = new Stack<INamespaceOrTypeSymbol>();
        pending.Push(compilation.Assembly.GlobalNamespace);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            if (current is INamespaceSymbol ns)
            {
                foreach (var member in ns.GetMembers()) pending.Push(member);
                continue;
            }
            var type = (INamedTypeSymbol)current;
            if (FromBuilder(type, symbols) is { } task && !index.ContainsKey(task.TaskName)) index.Add(task.TaskName, task);
            foreach (var nested in type.GetTypeMembers()) pending.Push(nested);
        }
        return index;
    }
}
