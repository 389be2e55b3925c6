using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MageFlow.Analyzers.CodeFixes;

/// <summary>MAGE004: removes the extra <c>[ReturnValue]</c>, keeping the first one.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveExtraReturnValueCodeFixProvider)), Shared]
public sealed class RemoveExtraReturnValueCodeFixProvider : CodeFixProvider
{
    private const string EquivalenceKey = DiagnosticIds.MultipleReturnValueMembers + ".RemoveReturnValue";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.MultipleReturnValueMembers);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;

        foreach (var diagnostic in context.Diagnostics)
        {
            var attribute = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<AttributeSyntax>();
            if (attribute is null) continue;
            context.RegisterCodeFix(
                CodeAction.Create(
                    "Remove the extra [ReturnValue]",
                    cancellationToken => RemoveAsync(context.Document, attribute, cancellationToken),
                    EquivalenceKey),
                diagnostic);
        }
    }

    private static async Task<Document> RemoveAsync(Document document, AttributeSyntax attribute, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || attribute.Parent is not AttributeListSyntax list) return document;

        SyntaxNode? newRoot;
        if (list.Attributes.Count > 1)
        {
            newRoot = root.RemoveNode(attribute, SyntaxRemoveOptions.KeepNoTrivia);
        }
        else if (list.GetTrailingTrivia().Any(t => t.IsKind(SyntaxKind.EndOfLineTrivia)))
        {
            // a list on its own line goes with its line; blank lines and comments above it stay
            var kept = list.GetLeadingTrivia().Reverse().SkipWhile(t => !t.IsKind(SyntaxKind.EndOfLineTrivia)).Reverse();
            var tracked = root.TrackNodes(list);
            var next = tracked.GetCurrentNode(list)!.GetLastToken().GetNextToken();
            tracked = tracked.ReplaceToken(next, next.WithLeadingTrivia(SyntaxFactory.TriviaList(kept).AddRange(next.LeadingTrivia)));
            newRoot = tracked.RemoveNode(tracked.GetCurrentNode(list)!, SyntaxRemoveOptions.KeepNoTrivia);
        }
        else
        {
            // an inline list leaves the indentation before it in place
            newRoot = root.RemoveNode(list, SyntaxRemoveOptions.KeepLeadingTrivia);
        }
        return newRoot is null ? document : document.WithSyntaxRoot(newRoot);
    }
}
