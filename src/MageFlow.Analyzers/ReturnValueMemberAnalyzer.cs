using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace MageFlow.Analyzers;

/// <summary>MAGE004: a message type (with its base types) has more than one [ReturnValue] member.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ReturnValueMemberAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.MultipleReturnValueMembers);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (MageSymbols.TryCreate(start.Compilation) is not { } symbols) return;
            start.RegisterSymbolAction(symbolContext => AnalyzeType(symbolContext, symbols), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, MageSymbols symbols)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct)) return;

        var marked = MessageMembers.ReturnValueMembers(type, symbols);
        if (marked.Count < 2) return;

        var first = marked[0];
        for (var i = 1; i < marked.Count; i++)
        {
            var extra = marked[i];
            // each type reports only the attributes it declares, so a base type's mistake is reported once, on the base
            if (!SymbolEqualityComparer.Default.Equals(extra.Symbol.ContainingType, type)) continue;
            if (MessageMembers.AttributeSyntaxOf(extra.Attribute, context.CancellationToken) is not { } syntax) continue;
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.MultipleReturnValueMembers,
                syntax.GetLocation(),
                type.ToDisplayString(),
                first.Symbol.Name,
                extra.Symbol.Name));
        }
    }
}
