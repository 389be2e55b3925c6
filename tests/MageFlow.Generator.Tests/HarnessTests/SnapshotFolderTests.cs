using System.Reflection;
using System.Runtime.CompilerServices;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests.HarnessTests;

/// <summary>Snapshots of renamed or deleted tests would otherwise stay behind unnoticed, unlike Verify's own.</summary>
public sealed class SnapshotFolderTests
{
    [Fact]
    public void Every_verified_snapshot_belongs_to_a_test()
    {
        var snapshots = Path.Combine(Path.GetDirectoryName(ThisFile())!, "..", "Snapshots");
        var tests = typeof(SnapshotFolderTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods().Select(method => (type, method)))
            .Where(pair => pair.method.GetCustomAttribute<FactAttribute>() is not null)
            .Select(pair => $"{pair.type.Name}.{pair.method.Name}")
            .ToHashSet(StringComparer.Ordinal);

        var orphans = Directory.EnumerateFiles(snapshots, "*.verified.cs")
            .Select(Path.GetFileName)
            .Where(name => !tests.Contains(name![..name!.IndexOf('#')]))
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.NotEmpty(tests);
        if (orphans.Length > 0)
            throw new XunitException($"Snapshots without a test (delete them):\n{string.Join("\n", orphans)}");
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
