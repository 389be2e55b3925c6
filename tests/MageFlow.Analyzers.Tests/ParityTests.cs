using System.Collections.Immutable;
using MageFlow.Generator;
using MageFlow.TestShapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace MageFlow.Analyzers.Tests;

/// <summary>
/// The generator and the analyzers read one rule set: over every known task shape, a [MageTask] method gets a builder
/// exactly when neither MAGE005 nor MAGE006 is reported on it.
/// </summary>
public sealed class ParityTests
{
    public static TheoryData<string> Shapes => new(TaskShapes.All.Keys);

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Builder_is_emitted_exactly_when_MAGE005_and_MAGE006_are_silent(string shape)
    {
        var source = CSharpSyntaxTree.ParseText(TaskShapes.All[shape], new CSharpParseOptions(LanguageVersion.Latest), "Shape.cs");
        var input = CSharpCompilation.Create(
            "ParityShape",
            [source],
            TestCompilation.AdditionalReferences,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        var inputErrors = input.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        if (!shape.Contains("unresolved", StringComparison.Ordinal))
            Assert.True(inputErrors.Length == 0, $"The shape does not compile: {string.Join("; ", inputErrors.Select(d => d.ToString()))}");

        CSharpGeneratorDriver.Create(new MageTaskGenerator()).RunGeneratorsAndUpdateCompilation(input, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);

        var analyzerDiagnostics = await output.WithAnalyzers([new TaskMethodAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        Assert.DoesNotContain(analyzerDiagnostics, d => d.Id == "AD0001");
        var reportedSpans = analyzerDiagnostics
            .Where(d => d.Id is DiagnosticIds.UnsupportedTaskMethod or DiagnosticIds.DuplicateTaskName)
            .Select(d => d.Location.SourceSpan)
            .ToHashSet();

        var tasks = TaskMethods(output, source);
        Assert.NotEmpty(tasks);
        var called = MethodsCalledFromGeneratedCode(output, source);
        var mismatches = tasks
            .Where(task => called.Contains(task) == reportedSpans.Contains(task.Locations[0].SourceSpan))
            .Select(task => called.Contains(task) ? $"{task.Name}: builder emitted and MAGE005/MAGE006 reported" : $"{task.Name}: no builder and nothing reported")
            .ToArray();
        Assert.True(mismatches.Length == 0, string.Join(Environment.NewLine, mismatches));
    }

    private static ImmutableHashSet<IMethodSymbol> TaskMethods(Compilation compilation, SyntaxTree source)
    {
        var model = compilation.GetSemanticModel(source);
        return source.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>()
            .Select(declaration => model.GetDeclaredSymbol(declaration)!)
            .Where(method => method.GetAttributes().Any(a => a.AttributeClass?.Name == nameof(MageTaskAttribute)))
            .ToImmutableHashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
    }

    /// <summary>A builder calls its task method: every method named in a generated file, by symbol.</summary>
    private static ImmutableHashSet<IMethodSymbol> MethodsCalledFromGeneratedCode(Compilation output, SyntaxTree source)
    {
        var called = ImmutableHashSet.CreateBuilder<IMethodSymbol>(SymbolEqualityComparer.Default);
        foreach (var generated in output.SyntaxTrees.Where(tree => tree != source))
        {
            var model = output.GetSemanticModel(generated);
            foreach (var name in generated.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var info = model.GetSymbolInfo(name);
                var symbols = info.Symbol is { } bound ? [bound] : info.CandidateSymbols;
                foreach (var method in symbols.OfType<IMethodSymbol>()) called.Add(method.OriginalDefinition);
            }
        }
        return called.ToImmutable();
    }
}
