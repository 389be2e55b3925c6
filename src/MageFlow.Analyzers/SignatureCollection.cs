using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace MageFlow.Analyzers;

/// <summary>The signatures written out in a collection argument (<c>successCallbacks: [confirm, audit]</c>, <c>ChainAsync([validate, charge])</c>).</summary>
internal static class SignatureCollection
{
    /// <summary>The expression written for the parameter named <paramref name="parameterName"/>; null when it is left to its default.</summary>
    public static ExpressionSyntax? ArgumentExpression(IInvocationOperation invocation, string parameterName) =>
        invocation.Arguments.FirstOrDefault(a => a.ArgumentKind == ArgumentKind.Explicit && a.Parameter?.Name == parameterName)?.Syntax is ArgumentSyntax { Expression: var expression }
            ? expression
            : null;

    /// <summary>
    /// The elements in order: a collection expression, an array creation or a collection initializer
    /// (<c>new List&lt;TaskSignature&gt; { … }</c>). Null stands for an element that adds signatures not listed one by one
    /// (a spread <c>..others</c>), so positions stay meaningful. Empty for a collection built elsewhere.
    /// </summary>
    public static IReadOnlyList<ExpressionSyntax?> Elements(ExpressionSyntax collection) => collection switch
    {
        CollectionExpressionSyntax collectionExpression => collectionExpression.Elements
            .Select(element => element is ExpressionElementSyntax { Expression: var expression } ? expression : null)
            .ToList(),
        ArrayCreationExpressionSyntax { Initializer: { } initializer } => initializer.Expressions,
        ImplicitArrayCreationExpressionSyntax implicitArray => implicitArray.Initializer.Expressions,
        BaseObjectCreationExpressionSyntax { Initializer: { } initializer } when initializer.IsKind(SyntaxKind.CollectionInitializerExpression) =>
            // a complex element initializer (`{ a, b }`) calls an Add of several arguments: not one signature
            initializer.Expressions.Select(e => e is InitializerExpressionSyntax ? null : e).ToList(),
        ParenthesizedExpressionSyntax parenthesized => Elements(parenthesized.Expression),
        _ => [],
    };
}
