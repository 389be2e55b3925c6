using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace MageFlow.Generator.Tests.Infrastructure;

/// <summary>One run of the generators: the driver (to re-run incrementally) and what it produced.</summary>
internal sealed record GeneratorRun(Compilation Input, Compilation Output, GeneratorDriver Driver, GeneratorDriverRunResult Result)
{
    private static readonly GeneratorDriverOptions TrackingOptions =
        new(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true);

    public static GeneratorRun Start(Compilation compilation)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            GeneratorUnderTest.Create(),
            additionalTexts: [],
            // Generated files are parsed like the user's own, as the compiler does.
            compilation.SyntaxTrees.FirstOrDefault()?.Options as CSharpParseOptions ?? TestCompilation.ParseOptions,
            optionsProvider: null,
            TrackingOptions);
        return Next(driver, compilation);
    }

    /// <summary>Runs the same driver again, so its caches from this run apply.</summary>
    public GeneratorRun Rerun(Compilation compilation) => Next(Driver, compilation);

    private static GeneratorRun Next(GeneratorDriver driver, Compilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return new GeneratorRun(compilation, output, driver, driver.GetRunResult());
    }

    public ImmutableArray<GeneratedSourceResult> GeneratedSources =>
        [.. Result.Results.SelectMany(result => result.GeneratedSources).OrderBy(source => source.HintName, StringComparer.Ordinal)];

    public string GeneratedText(string hintName) =>
        GeneratedSources.Single(source => source.HintName == hintName).SourceText.ToString();

    /// <summary>Every output of every run of the named step, across all generators.</summary>
    public IReadOnlyList<(object Value, IncrementalStepRunReason Reason)> StepOutputs(string stepName) =>
        Result.Results
            .SelectMany(result => result.TrackedSteps.TryGetValue(stepName, out var steps) ? steps : [])
            .SelectMany(step => step.Outputs)
            .ToArray();

    /// <summary>
    /// Every output of the source-output steps (the ones that add files), across all generators, with the model
    /// that fed it: the output itself is only the added text.
    /// </summary>
    public IReadOnlyList<(string StepName, object Input, IncrementalStepRunReason Reason)> SourceOutputs =>
        Result.Results
            .SelectMany(result => result.TrackedOutputSteps)
            .SelectMany(pair => pair.Value.SelectMany(step => step.Outputs.Select(output => (pair.Key, InputOf(step), output.Reason))))
            .ToArray();

    private static object InputOf(IncrementalGeneratorRunStep step)
    {
        var (source, index) = step.Inputs.Single();
        return source.Outputs[index].Value;
    }

    public bool HasStep(string stepName) => Result.Results.Any(result => result.TrackedSteps.ContainsKey(stepName));
}
