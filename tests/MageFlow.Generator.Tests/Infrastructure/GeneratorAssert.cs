using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.CodeAnalysis;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests.Infrastructure;

/// <summary>The checks every generator test makes, usable one by one.</summary>
internal static class GeneratorAssert
{
    /// <summary>
    /// Runs the generators on <paramref name="sources"/> and checks: no generator exception or diagnostic,
    /// every generated file matches its snapshot, the output compiles with no error or warning, and a re-run
    /// on a cloned compilation is fully cached.
    /// </summary>
    public static GeneratorRun Generates(
        string[] sources,
        [CallerFilePath] string testFilePath = "",
        [CallerMemberName] string testMethod = "")
    {
        var run = GeneratorRun.Start(TestCompilation.Create(sources));
        NoGeneratorFailures(run);
        Snapshot.Match(
            Path.Combine(Path.GetDirectoryName(testFilePath)!, "Snapshots"),
            // One test class per file, named like the file, as Verify names its snapshots after the class.
            $"{Path.GetFileNameWithoutExtension(testFilePath)}.{testMethod}",
            [.. run.GeneratedSources.Select(source => (source.HintName, source.SourceText.ToString()))],
            Snapshot.ModeFromEnvironment());
        CompilesCleanly(run.Output);
        EveryTrackedStepRan(run);
        NoCompilerObjectsInSteps(run);
        FullyCachedOnRerun(run);
        return run;
    }

    public static GeneratorRun Generates(string source, [CallerFilePath] string testFilePath = "", [CallerMemberName] string testMethod = "") =>
        Generates([source], testFilePath, testMethod);

    /// <summary>The generator threw nothing and reported nothing: diagnostics belong to the analyzers.</summary>
    public static void NoGeneratorFailures(GeneratorRun run)
    {
        var failures = run.Result.Results
            .Where(result => result.Exception is not null)
            .Select(result => $"{result.Generator.GetGeneratorType().Name} threw {result.Exception}")
            .Concat(run.Result.Diagnostics.Select(diagnostic => $"generator reported {diagnostic}"))
            .ToArray();
        if (failures.Length > 0)
            throw new XunitException(string.Join("\n", failures));
    }

    /// <summary>No error and no warning anywhere in the output compilation, except the listed ids.</summary>
    public static void CompilesCleanly(Compilation output, params string[] allowedIds) =>
        NoDiagnostics(output, DiagnosticSeverity.Warning, allowedIds);

    /// <summary>No diagnostic at or above <paramref name="minimum"/>, printed with locations and source lines.</summary>
    public static void NoDiagnostics(Compilation output, DiagnosticSeverity minimum, params string[] allowedIds)
    {
        var diagnostics = output.GetDiagnostics()
            .Where(diagnostic => diagnostic.Severity >= minimum && !allowedIds.Contains(diagnostic.Id))
            .ToArray();
        if (diagnostics.Length > 0)
            throw new XunitException($"The output compilation has {diagnostics.Length} diagnostic(s):\n{Describe(diagnostics)}");
    }

    public static string Describe(IEnumerable<Diagnostic> diagnostics)
    {
        var text = new StringBuilder();
        foreach (var diagnostic in diagnostics.OrderBy(d => d.Location.SourceTree?.FilePath, StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start))
        {
            text.Append(diagnostic).Append('\n');
            if (diagnostic.Location.SourceTree is { } tree)
            {
                var line = tree.GetText().Lines[diagnostic.Location.GetLineSpan().StartLinePosition.Line];
                text.Append("    | ").Append(line.ToString().Trim()).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Every step named in TrackingNames was recorded, so a renamed or untracked step cannot pass unseen.</summary>
    public static void EveryTrackedStepRan(GeneratorRun run)
    {
        var missing = GeneratorUnderTest.TrackingNames.Where(name => !run.HasStep(name)).ToArray();
        if (missing.Length > 0)
            throw new XunitException($"These TrackingNames steps were not recorded: {string.Join(", ", missing)}.");
    }

    /// <summary>Re-running on a cloned compilation must not recompute anything that changes output.</summary>
    public static void FullyCachedOnRerun(GeneratorRun run) =>
        NothingRecomputed(run, run.Rerun(run.Input.Clone()), "A re-run on a cloned compilation");

    /// <summary>
    /// Every output of every tracked step and every source output of <paramref name="rerun"/> is Cached or Unchanged.
    /// </summary>
    public static void NothingRecomputed(GeneratorRun before, GeneratorRun rerun, string what)
    {
        // A step that ran before but is not recorded now would pass the check below without being looked at.
        var unrecorded = GeneratorUnderTest.TrackingNames.Where(name => before.HasStep(name) && !rerun.HasStep(name)).ToArray();
        if (unrecorded.Length > 0)
            throw new XunitException($"{what} did not record these steps, which the run before it did: {string.Join(", ", unrecorded)}.");
        var offending = GeneratorUnderTest.TrackingNames
            .SelectMany(name => rerun.StepOutputs(name).Select(output => (Step: name, output.Reason)))
            .Concat(rerun.SourceOutputs.Select(output => (Step: output.StepName, output.Reason)))
            .Where(output => output.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
            .GroupBy(output => output.Step)
            .Select(group => $"{group.Key}: {string.Join(", ", group.Select(output => output.Reason))}")
            .ToArray();
        if (offending.Length > 0)
            throw new XunitException($"{what} recomputed these steps:\n{string.Join("\n", offending)}");
    }

    /// <summary>
    /// Symbols, syntax and compilations are never equal across runs (and keep whole compilations alive), so
    /// any of them in a tracked step's output defeats caching.
    /// </summary>
    public static void NoCompilerObjectsInSteps(GeneratorRun run)
    {
        var found = GeneratorUnderTest.TrackingNames
            .SelectMany(name => run.StepOutputs(name).SelectMany(output => CompilerObjectsIn(output.Value, name)))
            .ToArray();
        if (found.Length > 0)
            throw new XunitException($"Tracked step outputs hold compiler objects:\n{string.Join("\n", found.Distinct())}");
    }

    /// <summary>Paths inside <paramref name="value"/> (fields, items) that lead to a compiler object.</summary>
    public static IReadOnlyList<string> CompilerObjectsIn(object? value, string rootName)
    {
        var found = new List<string>();
        FindCompilerObjects(value, rootName, found, new HashSet<object>(ReferenceEqualityComparer.Instance), depth: 0);
        return found;
    }

    private static readonly Type[] CompilerObjectTypes =
        [typeof(Compilation), typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SemanticModel), typeof(Location)];

    private static void FindCompilerObjects(object? value, string path, List<string> found, HashSet<object> visited, int depth)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || depth > 32)
            return;
        var type = value.GetType();
        if (CompilerObjectTypes.FirstOrDefault(forbidden => forbidden.IsAssignableFrom(type)) is { } kind)
        {
            found.Add($"{path}: {kind.Name} ({type.Name})");
            return;
        }

        if (!type.IsValueType && !visited.Add(value))
            return;
        if (value is IEnumerable sequence and not IDictionary && Items(sequence) is { } items)
        {
            for (var index = 0; index < items.Count; index++)
                FindCompilerObjects(items[index], $"{path}[{index}]", found, visited, depth + 1);
            return;
        }

        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            FindCompilerObjects(field.GetValue(value), $"{path}.{field.Name}", found, visited, depth + 1);
    }

    // A default ImmutableArray throws when enumerated; null sends the walk to its (null) fields instead.
    private static List<object?>? Items(IEnumerable sequence)
    {
        try
        {
            return sequence.Cast<object?>().ToList();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        catch (NullReferenceException)
        {
            return null;
        }
    }
}
