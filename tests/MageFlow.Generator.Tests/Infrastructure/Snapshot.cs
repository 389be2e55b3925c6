using System.Text;
using System.Text.RegularExpressions;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests.Infrastructure;

/// <summary>Whether a snapshot comparison may overwrite the verified file.</summary>
internal enum SnapshotMode
{
    Compare,
    Accept,
}

/// <summary>
/// Verify-style snapshots without Verify: <c>Snapshots/{TestClass}.{TestMethod}#{HintName}.verified.cs</c>
/// beside the test file; a mismatch writes <c>.received.cs</c> and fails with a diff.
/// </summary>
internal static partial class Snapshot
{
    public const string VerifiedSuffix = ".verified.cs";
    public const string ReceivedSuffix = ".received.cs";

    /// <summary>ACCEPT_SNAPSHOTS=1 accepts, except under CI, where snapshots are only ever compared.</summary>
    public static SnapshotMode ModeFromEnvironment() =>
        Mode(ci: Environment.GetEnvironmentVariable("CI"), acceptSnapshots: Environment.GetEnvironmentVariable("ACCEPT_SNAPSHOTS"));

    public static SnapshotMode Mode(string? ci, string? acceptSnapshots) =>
        string.IsNullOrEmpty(ci) && acceptSnapshots == "1" ? SnapshotMode.Accept : SnapshotMode.Compare;

    /// <summary>
    /// Compares every generated file of one test with its verified snapshot, and fails on verified snapshots
    /// of that test the generator no longer produces. All mismatches are reported together.
    /// </summary>
    public static void Match(
        string directory,
        string testName,
        IReadOnlyCollection<(string HintName, string Text)> generatedFiles,
        SnapshotMode mode)
    {
        if (mode == SnapshotMode.Accept)
            Directory.CreateDirectory(directory);
        else if (!Directory.Exists(directory))
            throw new XunitException($"The snapshot folder {directory} does not exist: is [CallerFilePath] mapped (deterministic source paths)?");
        var failures = new List<string>();
        var expectedPaths = new HashSet<string>(StringComparer.Ordinal);

        foreach (var (hintName, text) in generatedFiles.OrderBy(file => file.HintName, StringComparer.Ordinal))
        {
            var basePath = Path.Combine(directory, $"{testName}#{StripCsExtension(hintName)}");
            var verifiedPath = basePath + VerifiedSuffix;
            var receivedPath = basePath + ReceivedSuffix;
            expectedPaths.Add(verifiedPath);

            var received = $"//HintName: {hintName}\n{Normalize(text)}";
            var verified = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;

            if (verified == received)
            {
                File.Delete(receivedPath);
                continue;
            }

            if (mode == SnapshotMode.Accept)
            {
                File.WriteAllText(verifiedPath, received, Utf8NoBom);
                File.Delete(receivedPath);
                continue;
            }

            File.WriteAllText(receivedPath, received, Utf8NoBom);
            failures.Add(verified is null
                ? $"No verified snapshot {Path.GetFileName(verifiedPath)}; the generated text is in {Path.GetFileName(receivedPath)}."
                : $"{Path.GetFileName(verifiedPath)} differs from the generated text (- verified, + received):\n{Diff(verified, received)}");
        }

        foreach (var stalePath in Directory.EnumerateFiles(directory, $"{testName}#*{VerifiedSuffix}")
                     .Where(path => !expectedPaths.Contains(path))
                     .Order(StringComparer.Ordinal))
        {
            if (mode == SnapshotMode.Accept)
                File.Delete(stalePath);
            else
                failures.Add($"{Path.GetFileName(stalePath)} is verified, but the generator no longer produces that file.");
        }

        if (failures.Count > 0)
        {
            throw new XunitException(
                string.Join("\n\n", failures) +
                "\n\nIf the new output is right, run with ACCEPT_SNAPSHOTS=1 (ignored when CI is set) and review the changed snapshots.");
        }
    }

    /// <summary>A unified-style diff with two lines of context around each change.</summary>
    public static string Diff(string verified, string received)
    {
        const int context = 2;
        var lines = InlineDiffBuilder.Diff(verified, received, ignoreWhiteSpace: false).Lines;
        var changed = lines.Select(line => line.Type is ChangeType.Inserted or ChangeType.Deleted).ToArray();
        var output = new StringBuilder();
        var lastPrinted = -1;
        for (var i = 0; i < lines.Count; i++)
        {
            var nearChange = Enumerable.Range(Math.Max(0, i - context), Math.Min(lines.Count, i + context + 1) - Math.Max(0, i - context))
                .Any(j => changed[j]);
            if (!nearChange)
                continue;
            if (lastPrinted >= 0 && lastPrinted != i - 1)
                output.Append("  ...\n");
            var prefix = lines[i].Type switch
            {
                ChangeType.Inserted => "+ ",
                ChangeType.Deleted => "- ",
                _ => "  ",
            };
            output.Append(prefix).Append(VisibleWhitespace(lines[i].Text)).Append('\n');
            lastPrinted = i;
        }

        return output.ToString();
    }

    /// <summary>The version in [GeneratedCode(...)] is replaced so that a version bump does not churn every snapshot.</summary>
    public static string Normalize(string text) =>
        GeneratedCodeVersion().Replace(text.Replace("\r\n", "\n").TrimStart('\uFEFF'), "$1{version}$2");

    private static string StripCsExtension(string hintName) =>
        hintName.EndsWith(".cs", StringComparison.Ordinal) ? hintName[..^3] : hintName;

    // A whitespace-only difference would otherwise print as two identical-looking lines.
    private static string VisibleWhitespace(string? line) =>
        line is null ? "" : line.Length > 0 && char.IsWhiteSpace(line[^1]) ? line + "⏎" : line;

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    [GeneratedRegex("""(GeneratedCode(?:Attribute)?\(\s*"[^"]*"\s*,\s*")[^"]*("\s*\))""")]
    private static partial Regex GeneratedCodeVersion();
}
