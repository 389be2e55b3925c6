using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using MageFlow.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace MageFlow.Analyzers;

/// <summary>
/// MAGE005 (a [MageTask] method that gets no builder) and MAGE006 (task name used twice), reported from the
/// classifier and the claim settlement the generator emits from: a method gets a builder exactly when neither fires.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TaskMethodAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.UnsupportedTaskMethod, DiagnosticDescriptors.BuilderClassTaken, DiagnosticDescriptors.DuplicateTaskName);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (MageSymbols.TryCreate(start.Compilation) is not { } symbols) return;

            var validTasks = new ConcurrentBag<(TaskClaim Claim, IMethodSymbol Method)>();
            start.RegisterSymbolAction(symbolContext =>
            {
                var method = (IMethodSymbol)symbolContext.Symbol;
                if (MageSymbols.FindAttribute(method, symbols.MageTaskAttribute) is not { } attribute) return;

                var classification = TaskClassifier.Classify(method, attribute, symbolContext.CancellationToken);
                foreach (var problem in classification.Problems)
                {
                    symbolContext.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.UnsupportedTaskMethod, method.Locations[0], method.Name, problem));
                }
                if (classification.Model is { } model) validTasks.Add((TaskClaim.Of(model), method));
            }, SymbolKind.Method);

            start.RegisterCompilationEndAction(end => ReportClaimClashes(end, validTasks));
        });
    }

    private static void ReportClaimClashes(CompilationAnalysisContext context, ConcurrentBag<(TaskClaim Claim, IMethodSymbol Method)> validTasks)
    {
        var methodByHint = new Dictionary<string, IMethodSymbol>(System.StringComparer.Ordinal);
        foreach (var (claim, method) in validTasks) methodByHint[claim.HintName] = method;
        var settled = TaskClaims.Settle(validTasks.Select(task => task.Claim));

        foreach (var (loser, winner) in settled.LostBuilders)
        {
            var method = methodByHint[loser.HintName];
            var keeper = methodByHint[winner.HintName];
            var ns = method.ContainingType.ContainingNamespace;
            var builderName = ns.IsGlobalNamespace ? method.Name : ns.ToDisplayString() + "." + method.Name;
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.BuilderClassTaken, method.Locations[0], method.Name,
                $"'{DisplayName(keeper)}' already gets the builder class '{builderName}'; rename one of the methods and keep the task name with [MageTask(\"...\")]"));
        }

        foreach (var group in settled.SharedTaskNames)
        {
            // source order keeps the message deterministic whatever order the concurrent actions ran in
            var methods = group.Select(claim => methodByHint[claim.HintName])
                .OrderBy(m => m.Locations[0].SourceTree?.FilePath, System.StringComparer.Ordinal)
                .ThenBy(m => m.Locations[0].SourceSpan.Start).ToList();
            foreach (var method in methods)
            {
                var others = string.Join(", ", methods.Where(m => !SymbolEqualityComparer.Default.Equals(m, method)).Select(m => "'" + DisplayName(m) + "'"));
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateTaskName, method.Locations[0], group[0].TaskName, DisplayName(method), others));
            }
        }
    }

    private static string DisplayName(IMethodSymbol method) => method.ContainingType.ToDisplayString() + "." + method.Name;
}
