using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace MageFlow.Analyzers;

/// <summary>
/// The signatures written out in a collection argument (<c>successCallbacks: [confirm, audit]</c>, <c>ChainAsync([validate, charge])</c>),
/// either in the call or in the one assignment of a local passed to it.
/// </summary>
internal static class SignatureCollection
{
    private const string KwargsMemberName = "Kwargs";

    /// <summary>The expression written for the parameter named <paramref name="parameterName"/>; null when it is left to its default.</summary>
    public static ExpressionSyntax? ArgumentExpression(IInvocationOperation invocation, string parameterName) =>
        invocation.Arguments.FirstOrDefault(a => a.ArgumentKind == ArgumentKind.Explicit && a.Parameter?.Name == parameterName)?.Syntax is ArgumentSyntax { Expression: var expression }
            ? expression
            : null;

    /// <summary>
    /// The elements in order: a collection expression, an array creation or a collection initializer
    /// (<c>new List&lt;TaskSignature&gt; { … }</c>), written in the argument or as the declaration of a local that is
    /// referenced nowhere else (<see cref="InitializerOfUntouchedLocal"/>). Null stands for an element that adds signatures
    /// not listed one by one (a spread <c>..others</c>), so positions stay meaningful. Empty for a collection built elsewhere.
    /// </summary>
    public static IReadOnlyList<ExpressionSyntax?> Elements(ExpressionSyntax collection, SemanticModel semanticModel, CancellationToken cancellationToken) =>
        Unparenthesized(collection) is IdentifierNameSyntax name
        && semanticModel.GetSymbolInfo(name, cancellationToken).Symbol is ILocalSymbol local
        && InitializerOfUntouchedLocal(local, name, semanticModel, cancellationToken) is { } initializer
            ? WrittenElements(initializer)
            : WrittenElements(collection);

    /// <summary>
    /// The initializer of a local declared with one and never written again: not assigned, not passed by <c>ref</c>/<c>out</c>,
    /// not incremented. Null otherwise, and for anything that is not such a local's declaration in this syntax tree.
    /// </summary>
    public static ExpressionSyntax? InitializerOfLocalAssignedOnce(ILocalSymbol local, SemanticModel semanticModel, CancellationToken cancellationToken) =>
        Declaration(local, semanticModel, cancellationToken) is { } declarator
        && !References(local, declarator, semanticModel, cancellationToken).Any(IsWrittenTo)
            ? declarator.Initializer!.Value
            : null;

    /// <summary>Whether the local's kwargs are changed after signing somewhere in its member (<c>notify.Kwargs.UpdateAsync(…)</c>).</summary>
    public static bool HasKwargsUpdated(ILocalSymbol local, SemanticModel semanticModel, CancellationToken cancellationToken) =>
        Declaration(local, semanticModel, cancellationToken) is not { } declarator
        || References(local, declarator, semanticModel, cancellationToken)
            .Any(reference => reference.Parent is MemberAccessExpressionSyntax { Name.Identifier.ValueText: KwargsMemberName } access && access.Expression == reference);

    /// <summary>
    /// The initializer of a local whose only reference is <paramref name="onlyReference"/>. A collection can change through
    /// any other reference (<c>.Add</c>, an index set, a method it is passed to, an alias), so any other one means unknown.
    /// </summary>
    private static ExpressionSyntax? InitializerOfUntouchedLocal(ILocalSymbol local, IdentifierNameSyntax onlyReference, SemanticModel semanticModel, CancellationToken cancellationToken) =>
        Declaration(local, semanticModel, cancellationToken) is { } declarator
        && References(local, declarator, semanticModel, cancellationToken).All(reference => reference == onlyReference)
            ? declarator.Initializer!.Value
            : null;

    /// <summary>The local's declarator when it has an initializer and lies in this syntax tree (not a foreach, pattern or out variable).</summary>
    private static VariableDeclaratorSyntax? Declaration(ILocalSymbol local, SemanticModel semanticModel, CancellationToken cancellationToken) =>
        local.DeclaringSyntaxReferences is [var reference]
        && reference.GetSyntax(cancellationToken) is VariableDeclaratorSyntax { Initializer: not null } declarator
        && declarator.SyntaxTree == semanticModel.SyntaxTree
            ? declarator
            : null;

    /// <summary>Every use of the local, searched in the member that declares it (lambdas and local functions included).</summary>
    private static IEnumerable<IdentifierNameSyntax> References(ILocalSymbol local, VariableDeclaratorSyntax declarator, SemanticModel semanticModel, CancellationToken cancellationToken)
    {
        // a wider scope than the local's own only costs time: the symbol comparison keeps out other locals of that name
        var scope = declarator.Ancestors().First(a => a is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or CompilationUnitSyntax);
        return scope.DescendantNodes()
            .OfType<IdentifierNameSyntax>()
            .Where(identifier => identifier.Identifier.ValueText == local.Name
                && SymbolEqualityComparer.Default.Equals(semanticModel.GetSymbolInfo(identifier, cancellationToken).Symbol, local));
    }

    private static bool IsWrittenTo(IdentifierNameSyntax identifier) => identifier.Parent switch
    {
        AssignmentExpressionSyntax assignment => assignment.Left == identifier,
        ArgumentSyntax argument => !argument.RefKindKeyword.IsKind(SyntaxKind.None),
        PrefixUnaryExpressionSyntax or PostfixUnaryExpressionSyntax => true,
        _ => false,
    };

    private static ExpressionSyntax Unparenthesized(ExpressionSyntax expression) =>
        expression is ParenthesizedExpressionSyntax parenthesized ? Unparenthesized(parenthesized.Expression) : expression;

    private static IReadOnlyList<ExpressionSyntax?> WrittenElements(ExpressionSyntax collection) => Unparenthesized(collection) switch
    {
        CollectionExpressionSyntax collectionExpression => collectionExpression.Elements
            .Select(element => element is ExpressionElementSyntax { Expression: var expression } ? expression : null)
            .ToList(),
        ArrayCreationExpressionSyntax { Initializer: { } initializer } => initializer.Expressions,
        ImplicitArrayCreationExpressionSyntax implicitArray => implicitArray.Initializer.Expressions,
        BaseObjectCreationExpressionSyntax { Initializer: { } initializer } when initializer.IsKind(SyntaxKind.CollectionInitializerExpression) =>
            // a complex element initializer (`{ a, b }`) calls an Add of several arguments: not one signature
            initializer.Expressions.Select(e => e is InitializerExpressionSyntax ? null : e).ToList(),
        _ => [],
    };
}
