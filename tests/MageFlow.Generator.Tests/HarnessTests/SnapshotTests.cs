using MageFlow.Generator.Tests.Infrastructure;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests.HarnessTests;

/// <summary>The snapshot helper itself, on a scratch folder: it has to fail when output drifts.</summary>
public sealed class SnapshotTests : IDisposable
{
    private readonly string _directory =
        Directory.CreateTempSubdirectory("mageflow-snapshot-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string VerifiedPath(string hint) => Path.Combine(_directory, $"Tests.Method#{hint}.verified.cs");

    private string ReceivedPath(string hint) => Path.Combine(_directory, $"Tests.Method#{hint}.received.cs");

    private void Match(SnapshotMode mode, params (string HintName, string Text)[] files) =>
        Snapshot.Match(_directory, "Tests.Method", files, mode);

    [Fact]
    public void Missing_verified_file_fails_and_writes_received_file()
    {
        var failure = Assert.Throws<XunitException>(() => Match(SnapshotMode.Compare, ("A.g.cs", "class A {}\n")));

        Assert.Contains("No verified snapshot Tests.Method#A.g.verified.cs", failure.Message);
        Assert.Equal("//HintName: A.g.cs\nclass A {}\n", File.ReadAllText(ReceivedPath("A.g")));
        Assert.False(File.Exists(VerifiedPath("A.g")));
    }

    [Fact]
    public void Accepting_writes_verified_file_which_then_matches()
    {
        Match(SnapshotMode.Accept, ("A.g.cs", "class A {}\r\n"));

        Assert.Equal("//HintName: A.g.cs\nclass A {}\n", File.ReadAllText(VerifiedPath("A.g")));
        Match(SnapshotMode.Compare, ("A.g.cs", "class A {}\n"));
        Assert.False(File.Exists(ReceivedPath("A.g")));
    }

    [Fact]
    public void Changed_output_fails_with_diff_of_changed_lines()
    {
        Match(SnapshotMode.Accept, ("A.g.cs", "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\n"));

        var failure = Assert.Throws<XunitException>(() =>
            Match(SnapshotMode.Compare, ("A.g.cs", "line 1\nline 2\nline 3\nline 4\nline five\nline 6\nline 7\n")));

        Assert.Contains("- line 5\n", failure.Message);
        Assert.Contains("+ line five\n", failure.Message);
        Assert.Contains("  line 4\n", failure.Message);
        Assert.DoesNotContain("line 1", failure.Message);
        Assert.Contains("ACCEPT_SNAPSHOTS=1", failure.Message);
        Assert.Contains("line five", File.ReadAllText(ReceivedPath("A.g")));
    }

    [Fact]
    public void Received_file_is_removed_once_output_matches_again()
    {
        Match(SnapshotMode.Accept, ("A.g.cs", "class A {}\n"));
        Assert.Throws<XunitException>(() => Match(SnapshotMode.Compare, ("A.g.cs", "class B {}\n")));
        Assert.True(File.Exists(ReceivedPath("A.g")));

        Match(SnapshotMode.Compare, ("A.g.cs", "class A {}\n"));

        Assert.False(File.Exists(ReceivedPath("A.g")));
    }

    [Fact]
    public void Verified_file_no_longer_generated_fails_unless_accepting()
    {
        Match(SnapshotMode.Accept, ("A.g.cs", "class A {}\n"), ("B.g.cs", "class B {}\n"));

        var failure = Assert.Throws<XunitException>(() => Match(SnapshotMode.Compare, ("A.g.cs", "class A {}\n")));
        Assert.Contains("Tests.Method#B.g.verified.cs is verified, but the generator no longer produces that file", failure.Message);

        Match(SnapshotMode.Accept, ("A.g.cs", "class A {}\n"));
        Assert.False(File.Exists(VerifiedPath("B.g")));
    }

    [Fact]
    public void Snapshots_of_other_tests_are_not_stale()
    {
        Snapshot.Match(_directory, "Tests.MethodTwo", [("A.g.cs", "class A {}\n")], SnapshotMode.Accept);

        Match(SnapshotMode.Compare);
    }

    [Theory]
    [InlineData(null, "1", true)]
    [InlineData("", "1", true)]
    [InlineData("true", "1", false)]
    [InlineData(null, null, false)]
    [InlineData(null, "0", false)]
    public void Accepting_needs_ACCEPT_SNAPSHOTS_and_is_refused_under_CI(string? ci, string? acceptSnapshots, bool accepts) =>
        Assert.Equal(accepts ? SnapshotMode.Accept : SnapshotMode.Compare, Snapshot.Mode(ci, acceptSnapshots));

    [Fact]
    public void Generator_version_is_scrubbed_and_line_endings_normalized()
    {
        var text = "\uFEFF[global::System.CodeDom.Compiler.GeneratedCode(\"MageFlow.Generator\", \"0.1.0.0\")]\r\nclass A {}\r\n";

        Assert.Equal(
            "[global::System.CodeDom.Compiler.GeneratedCode(\"MageFlow.Generator\", \"{version}\")]\nclass A {}\n",
            Snapshot.Normalize(text));
    }

    [Fact]
    public void Missing_snapshot_folder_fails_without_creating_it()
    {
        var missing = Path.Combine(_directory, "nowhere");

        var failure = Assert.Throws<XunitException>(() => Snapshot.Match(missing, "Tests.Method", [("A.g.cs", "class A {}\n")], SnapshotMode.Compare));

        Assert.Contains("does not exist", failure.Message);
        Assert.False(Directory.Exists(missing));
    }
}
