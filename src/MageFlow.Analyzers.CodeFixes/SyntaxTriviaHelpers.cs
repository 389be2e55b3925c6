using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace MageFlow.Analyzers.CodeFixes;

internal static class SyntaxTriviaHelpers
{
    /// <summary>The line ending the document already uses, so an inserted line matches its neighbours.</summary>
    public static SyntaxTrivia EndOfLine(SyntaxNode root) =>
        root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is var existing && existing.IsKind(SyntaxKind.EndOfLineTrivia)
            ? existing
            : SyntaxFactory.EndOfLine("\n");

    /// <summary>The whitespace that indents the line a node starts on (what follows the last line break of its leading trivia).</summary>
    public static SyntaxTriviaList Indentation(SyntaxNode node)
    {
        var leading = node.GetLeadingTrivia();
        var afterLastLineBreak = leading.Reverse().TakeWhile(t => !t.IsKind(SyntaxKind.EndOfLineTrivia)).Reverse()
            .Where(t => t.IsKind(SyntaxKind.WhitespaceTrivia));
        return SyntaxFactory.TriviaList(afterLastLineBreak);
    }
}
