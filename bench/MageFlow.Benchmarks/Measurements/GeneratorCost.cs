using System.Diagnostics;
using System.Text;
using MageFlow.Benchmarks.Infrastructure;
using MageFlow.Benchmarks.Reporting;

namespace MageFlow.Benchmarks.Measurements;

/// <summary>
/// Build time of a synthetic library with 500 [MageTask] methods, with and without the generator attached.
/// Two copies of the same sources differ only in the Analyzer item; both reference the built runtime and
/// generator assemblies directly, so only the library's own compile is timed. Before each timed build one
/// source file changes, so the compiler really runs (as after an edit) instead of the build being skipped.
/// </summary>
internal static class GeneratorCost
{
    public const int Tasks = 500;
    private const int TasksPerFile = 25;

    public static async Task<GeneratorFigure> MeasureAsync(string repositoryRoot, int repetitions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var runtime = Path.Combine(repositoryRoot, "src", "MageFlow.Runtime", "bin", "Release", "net10.0", "MageFlow.Runtime.dll");
        var generator = Path.Combine(repositoryRoot, "src", "MageFlow.Generator", "bin", "Release", "netstandard2.0", "MageFlow.Generator.dll");
        foreach (var required in new[] { runtime, generator })
            if (!File.Exists(required))
                throw new InvalidOperationException($"Generator cost needs {required}: build the solution in Release first (dotnet build MageFlow.sln -c Release).");
        var dependencies = Path.GetDirectoryName(typeof(GeneratorCost).Assembly.Location)!;

        var root = Directory.CreateTempSubdirectory("mageflow-generator-cost-").FullName;
        try
        {
            var without = WriteProject(Path.Combine(root, "without"), runtime, dependencies, generatorPath: null);
            var with = WriteProject(Path.Combine(root, "with"), runtime, dependencies, generator);
            foreach (var project in new[] { without, with })
            {
                await DotnetAsync(project, ["restore"], timeout, cancellationToken).ConfigureAwait(false);
                await BuildAsync(project, 0, timeout, cancellationToken).ConfigureAwait(false); // warm-up (compiler server, disk cache)
            }
            var withoutSeconds = new List<double>();
            var withSeconds = new List<double>();
            // Alternating keeps slow drifts of a shared machine from landing on one side only.
            for (var i = 1; i <= repetitions; i++)
            {
                withoutSeconds.Add(await BuildAsync(without, i, timeout, cancellationToken).ConfigureAwait(false));
                withSeconds.Add(await BuildAsync(with, i, timeout, cancellationToken).ConfigureAwait(false));
            }
            // ReportAnalyzer counts only the analyzers' callbacks; what the analyzer driver itself spends on the generated
            // code shows only when analyzers are switched off on both sides.
            var withoutNoAnalyzers = await BuildAsync(without, repetitions + 1, timeout, cancellationToken, NoAnalyzers).ConfigureAwait(false);
            var withNoAnalyzers = await BuildAsync(with, repetitions + 1, timeout, cancellationToken, NoAnalyzers).ConfigureAwait(false);
            var generatedFiles = Directory.GetFiles(Path.Combine(with, "obj"), "*.g.cs", SearchOption.AllDirectories)
                .Where(f => f.Contains("MageFlow.Generator", StringComparison.Ordinal)).ToArray();
            var generatedLines = generatedFiles.Sum(f => File.ReadLines(f).LongCount());
            // One more, untimed build with the compiler's own report: the generator's share vs compiling what it emitted.
            await File.WriteAllTextAsync(Path.Combine(with, "Edit.cs"), "// report\nnamespace Synthetic;\n", cancellationToken).ConfigureAwait(false);
            var log = await DotnetAsync(with, ["build", "-c", "Release", "--no-restore", "-nologo", "-v", "d", "-p:ReportAnalyzer=true"], timeout, cancellationToken).ConfigureAwait(false);
            var generatorTime = ReportedSeconds(log, "MageFlow.Generator.MageTaskGenerator");
            var analyzersTime = ReportedSeconds(log, "Total analyzer execution time:");
            var withSpread = Spread.Of(withSeconds);
            var withoutSpread = Spread.Of(withoutSeconds);
            var linesPerTask = generatedLines / (double)Tasks;
            return new GeneratorFigure(Tasks, withoutSpread, withSpread, withSpread.Median / withoutSpread.Median, linesPerTask, $"{generatorTime} s",
                $"builds alternate, each after a one-line edit of an unrelated file; the generator wrote {generatedFiles.Length} files, {generatedLines:N0} lines " +
                $"({linesPerTask:0.0} per task); with analyzers off ({NoAnalyzers}, one build each): {withNoAnalyzers:0.00} s / {withoutNoAnalyzers:0.00} s = {withNoAnalyzers / withoutNoAnalyzers:0.00} ×; " +
                $"compiler report (ReportAnalyzer) of one more build: MageTaskGenerator {generatorTime} s, all analyzers {analyzersTime} s");
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private const string NoAnalyzers = "-p:RunAnalyzers=false";

    private static async Task<double> BuildAsync(string project, int edit, TimeSpan timeout, CancellationToken cancellationToken, params string[] properties)
    {
        // A changed comment is enough to make the compile step run.
        await File.WriteAllTextAsync(Path.Combine(project, "Edit.cs"), $"// edit {edit}\nnamespace Synthetic;\n", cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await DotnetAsync(project, ["build", "-c", "Release", "--no-restore", "-nologo", "-v", "q", .. properties], timeout, cancellationToken).ConfigureAwait(false);
        return clock.Elapsed.TotalSeconds;
    }

    private static string WriteProject(string directory, string runtime, string dependencies, string? generatorPath)
    {
        Directory.CreateDirectory(directory);
        var references = new StringBuilder();
        references.AppendLine($"    <Reference Include=\"{runtime}\" />");
        foreach (var dll in Directory.GetFiles(dependencies, "Microsoft.Extensions.*Abstractions.dll").Order(StringComparer.Ordinal))
            references.AppendLine($"    <Reference Include=\"{dll}\" />");
        var analyzer = generatorPath is null ? "" : $"    <Analyzer Include=\"{generatorPath}\" />\n";
        File.WriteAllText(Path.Combine(directory, "Synthetic.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RootNamespace>Synthetic</RootNamespace>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
              </PropertyGroup>
              <ItemGroup>
            {references}{analyzer}  </ItemGroup>
            </Project>
            """);
        for (var file = 0; file < Tasks / TasksPerFile; file++)
        {
            var source = new StringBuilder();
            source.AppendLine("using MageFlow;");
            source.AppendLine("namespace Synthetic;");
            for (var i = file * TasksPerFile; i < (file + 1) * TasksPerFile; i++)
                source.AppendLine($"public sealed record Message{i}(int Id, string? Name = null, [property: ReturnValue] int? Previous = null);");
            source.AppendLine($"public static class Handlers{file}");
            source.AppendLine("{");
            for (var i = file * TasksPerFile; i < (file + 1) * TasksPerFile; i++)
            {
                source.AppendLine($"    [MageTask(\"task-{i}\", Retries = {i % 3})]");
                source.AppendLine($"    public static Task<int> Handle{i}(Message{i} message, CancellationToken cancellationToken) => Task.FromResult(message.Id + {i});");
            }
            source.AppendLine("}");
            File.WriteAllText(Path.Combine(directory, $"Handlers{file}.cs"), source.ToString());
        }
        return directory;
    }

    /// <summary>The seconds on the line of a -p:ReportAnalyzer=true build log naming <paramref name="marker"/>, or "?".</summary>
    private static string ReportedSeconds(string log, string marker)
    {
        foreach (var line in log.Split('\n'))
        {
            if (!line.Contains(marker, StringComparison.Ordinal)) continue;
            foreach (var token in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (double.TryParse(token.TrimEnd('.'), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                    return seconds.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        }
        return "?";
    }

    private static async Task<string> DotnetAsync(string workingDirectory, string[] arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (ex is TimeoutException) throw new MeasurementTimeoutException($"Generator cost: 'dotnet {string.Join(' ', arguments)}' in {workingDirectory} did not finish (limit {timeout.TotalSeconds:0} s)");
            throw;
        }
        var text = await output.ConfigureAwait(false) + await error.ConfigureAwait(false);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"Generator cost: 'dotnet {string.Join(' ', arguments)}' failed in {workingDirectory}:\n{text}");
        return text;
    }
}
