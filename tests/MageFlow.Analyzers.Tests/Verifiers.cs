using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace MageFlow.Analyzers.Tests;

/// <summary>Runs an analyzer over a program (markup spans such as <c>{|MAGE001:confirm|}</c>) plus task builders.</summary>
internal static class AnalyzerVerifier<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task VerifyAsync(string source, params string[] builders) => VerifyAsync(source, [], builders);

    /// <summary>With diagnostics beyond the markup, e.g. to check message arguments.</summary>
    public static Task VerifyAsync(string source, DiagnosticResult[] expected, params string[] builders)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            ReferenceAssemblies = TestCompilation.ReferenceAssemblies,
        };
        test.ExpectedDiagnostics.AddRange(expected);
        TestCompilation.Configure(test.TestState, test.SolutionTransforms);
        for (var i = 0; i < builders.Length; i++)
            test.TestState.Sources.Add(($"Builders{i}.g.cs", builders[i]));
        return test.RunAsync();
    }
}

/// <summary>Runs a code fix, one diagnostic at a time and as Fix All, and compares with the fixed program.</summary>
internal static class CodeFixVerifier<TAnalyzer, TCodeFix>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    public static Task VerifyAsync(string source, string fixedSource, params string[] builders)
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            ReferenceAssemblies = TestCompilation.ReferenceAssemblies,
        };
        TestCompilation.Configure(test.TestState, test.SolutionTransforms);
        // diagnostics marked in the fixed source are expected to remain (e.g. where no fix is offered)
        test.FixedState.MarkupHandling = MarkupMode.Allow;
        for (var i = 0; i < builders.Length; i++)
        {
            test.TestState.Sources.Add(($"Builders{i}.g.cs", builders[i]));
            test.FixedState.Sources.Add(($"Builders{i}.g.cs", builders[i]));
        }
        return test.RunAsync();
    }
}
