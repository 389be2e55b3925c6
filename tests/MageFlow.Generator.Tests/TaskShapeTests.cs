using MageFlow.Generator.Tests.Infrastructure;
using MageFlow.TestShapes;
using Microsoft.CodeAnalysis;

namespace MageFlow.Generator.Tests;

/// <summary>
/// The generator over every known task shape (the list the analyzer parity test uses too): it never throws, adds no
/// error of its own, keeps no compiler object in its steps and is fully cached on a re-run, whatever it leaves out.
/// </summary>
public sealed class TaskShapeTests
{
    public static TheoryData<string> Shapes => new(TaskShapes.All.Keys);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Generator_handles_the_shape(string shape)
    {
        var run = GeneratorRun.Start(TestCompilation.Create(TaskShapes.All[shape]));
        GeneratorAssert.NoGeneratorFailures(run);
        var errorsInGeneratedCode = run.Output.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error && !run.Input.SyntaxTrees.Contains(d.Location.SourceTree))
            .ToArray();
        Assert.True(errorsInGeneratedCode.Length == 0, GeneratorAssert.Describe(errorsInGeneratedCode));
        GeneratorAssert.NoCompilerObjectsInSteps(run);
        GeneratorAssert.FullyCachedOnRerun(run);
    }
}
