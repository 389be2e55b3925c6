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
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace MageFlow.Analyzers.CodeFixes;

/// <summary>MAGE002: marks the one member of the success callback's message that can hold the return value as <c>[ReturnValue]</c>.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddReturnValueCodeFixProvider)), Shared]
public sealed class AddReturnValueCodeFixProvider : CodeFixProvider
{
    private const string EquivalenceKey = DiagnosticIds.ReturnValueDropped + ".AddReturnValue";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.ReturnValueDropped);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(CallbackAnalyzer.ReturnValueCandidateProperty, out var memberName) || memberName is null) continue;
            var target = await FindMemberDeclarationAsync(context.Document, diagnostic, memberName, context.CancellationToken).ConfigureAwait(false);
            if (target is null) continue;

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Receive the return value in '{memberName}' ([ReturnValue])",
                    cancellationToken => AddAttributeAsync(context.Document.Project.Solution, target.Value, cancellationToken),
                    EquivalenceKey),
                diagnostic);
        }
    }

    /// <summary>The declaration of the member (the diagnostic's additional location), and the document that holds it.</summary>
    private static async Task<(DocumentId Document, SyntaxNode Declaration)?> FindMemberDeclarationAsync(
        Document document, Diagnostic diagnostic, string memberName, CancellationToken cancellationToken)
    {
        if (diagnostic.AdditionalLocations.FirstOrDefault() is not { SourceTree: { } tree } location) return null;
        var solution = document.Project.Solution;
        var declaringDocument = solution.GetDocument(tree)
            ?? document.Project.Documents.FirstOrDefault(d => d.FilePath == tree.FilePath);
        if (declaringDocument is null) return null;

        var root = await declaringDocument.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || !root.FullSpan.Contains(location.SourceSpan)) return null;
        SyntaxNode? declaration = root.FindNode(location.SourceSpan, getInnermostNodeForTie: true)
            .AncestorsAndSelf()
            .FirstOrDefault(n => n is ParameterSyntax or PropertyDeclarationSyntax or VariableDeclaratorSyntax);
        if (declaration is VariableDeclaratorSyntax declarator)
        {
            // a field declaring several variables cannot mark just one of them
            declaration = declarator.Parent is VariableDeclarationSyntax { Variables.Count: 1, Parent: FieldDeclarationSyntax field } ? field : null;
        }
        var declaredName = declaration switch
        {
            ParameterSyntax parameter => parameter.Identifier.ValueText,
            PropertyDeclarationSyntax property => property.Identifier.ValueText,
            FieldDeclarationSyntax field => field.Declaration.Variables[0].Identifier.ValueText,
            _ => null,
        };
        return declaration is not null && declaredName == memberName ? (declaringDocument.Id, declaration) : null;
    }

    private static async Task<Solution> AddAttributeAsync(Solution solution, (DocumentId Document, SyntaxNode Declaration) target, CancellationToken cancellationToken)
    {
        var document = solution.GetDocument(target.Document)!;
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return solution;

        var attribute = SyntaxFactory.Attribute(
            SyntaxFactory.ParseName("global::MageFlow.ReturnValue").WithAdditionalAnnotations(Simplifier.Annotation));
        SyntaxNode updated = target.Declaration switch
        {
            // a positional record parameter: the attribute belongs on the property it becomes
            ParameterSyntax parameter => parameter.AddAttributeLists(
                SyntaxFactory.AttributeList(
                        SyntaxFactory.AttributeTargetSpecifier(SyntaxFactory.Token(SyntaxKind.PropertyKeyword)),
                        SyntaxFactory.SingletonSeparatedList(attribute))
                    .WithTrailingTrivia(SyntaxFactory.Space)),
            MemberDeclarationSyntax member => AddAttributeOnOwnLine(member, SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(attribute)), root),
            _ => target.Declaration,
        };
        var newRoot = root.ReplaceNode(target.Declaration, updated);
        return solution.WithDocumentSyntaxRoot(target.Document, newRoot);
    }

    /// <summary>Puts the attribute on its own line above the member, at the member's indentation.</summary>
    private static SyntaxNode AddAttributeOnOwnLine(MemberDeclarationSyntax member, AttributeListSyntax attributeList, SyntaxNode root)
    {
        var leading = member.GetLeadingTrivia();
        var indentation = SyntaxTriviaHelpers.Indentation(member);
        var list = attributeList.WithLeadingTrivia(leading).WithTrailingTrivia(SyntaxTriviaHelpers.EndOfLine(root));
        var withoutTrivia = member.WithoutLeadingTrivia();
        var withAttribute = withoutTrivia.WithAttributeLists(withoutTrivia.AttributeLists.Insert(0, list));
        // the member's first token now follows the new line: give it the member's indentation
        var firstToken = withAttribute.AttributeLists.Count > 1
            ? withAttribute.AttributeLists[1].GetFirstToken()
            : withAttribute.AttributeLists[0].GetLastToken().GetNextToken();
        return withAttribute.ReplaceToken(firstToken, firstToken.WithLeadingTrivia(indentation)).WithAdditionalAnnotations(Formatter.Annotation);
    }
}
