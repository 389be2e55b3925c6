using MageFlow.Generator;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace MageFlow.Analyzers.Tests;

/// <summary>
/// Runs an analyzer over a program (markup spans such as <c>{|MAGE001:confirm|}</c>) with the real MageFlow
/// generator attached, so the builders the program calls are the ones users get.
/// </summary>
internal static class AnalyzerVerifier<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task VerifyAsync(string source) => VerifyAsync(source, []);

    /// <summary>With diagnostics beyond the markup, e.g. to check message arguments.</summary>
    public static Task VerifyAsync(string source, params DiagnosticResult[] expected) => VerifyAsync(source, CompilerDiagnostics.Errors, expected);

    private static Task VerifyAsync(string source, CompilerDiagnostics compilerDiagnostics, DiagnosticResult[] expected)
    {
        var test = new Test { TestCode = source, CompilerDiagnostics = compilerDiagnostics };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    private sealed class Test : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    {
        public Test()
        {
            ReferenceAssemblies = TestCompilation.ReferenceAssemblies;
            TestCompilation.Configure(TestState, SolutionTransforms);
            // generated builders are the generator's concern (its own snapshot tests); here they are only input
            TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
            // an id can have two descriptors (MAGE005: per method and at compilation end); a markup span checks id and place
            MarkupOptions = MarkupOptions.UseFirstDescriptor;
        }

        protected override IEnumerable<Type> GetSourceGenerators() => [typeof(MageTaskGenerator)];
    }
}

/// <summary>Runs a code fix, one diagnostic at a time and as Fix All (document, project, solution), and compares with the fixed program.</summary>
internal static class CodeFixVerifier<TAnalyzer, TCodeFix>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    public static Task VerifyAsync(string source, string fixedSource)
    {
        var test = new Test { TestCode = source, FixedCode = fixedSource };
        return test.RunAsync();
    }

    /// <summary>With a second document that the fix may change too (e.g. messages declared apart from the flow).</summary>
    public static Task VerifyAsync(string source, string fixedSource, string otherDocument, string fixedOtherDocument)
    {
        var test = new Test { TestCode = source, FixedCode = fixedSource };
        test.TestState.Sources.Add(("Other.cs", otherDocument));
        test.FixedState.Sources.Add(("Other.cs", fixedOtherDocument));
        return test.RunAsync();
    }

    private sealed class Test : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
    {
        public Test()
        {
            ReferenceAssemblies = TestCompilation.ReferenceAssemblies;
            TestCompilation.Configure(TestState, SolutionTransforms);
            TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
            // diagnostics marked in the fixed source are expected to remain (e.g. where no fix is offered)
            FixedState.MarkupHandling = MarkupMode.Allow;
        }

        protected override IEnumerable<Type> GetSourceGenerators() => [typeof(MageTaskGenerator)];
    }
}
