using MageFlow.Generator.Tests.Infrastructure;
using Xunit.Sdk;
using static MageFlow.Generator.TrackingNames;

namespace MageFlow.Generator.Tests.HarnessTests;

/// <summary>The compile and caching checks have to fail when there is something to report.</summary>
public sealed class GeneratorAssertTests
{
    private const string Source = """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed record PingMessage(string Text);

        public static class PingTasks
        {
            [MageTask]
            public static Task Ping(PingMessage message) => Task.CompletedTask;
        }
        """;

    [Fact]
    public void Changed_task_is_reported_as_recomputed_with_step_names()
    {
        var first = GeneratorRun.Start(TestCompilation.Create(Source));
        var tree = first.Input.SyntaxTrees.Single();
        var changed = first.Input.ReplaceSyntaxTree(tree, TestCompilation.Parse(Source.Replace("string Text", "string Text, int Count"), tree.FilePath));

        var failure = Assert.Throws<XunitException>(() => GeneratorAssert.NothingRecomputed(first, first.Rerun(changed), "The edit"));

        Assert.Contains("The edit recomputed these steps:", failure.Message);
        Assert.Contains($"{TaskModels}: Modified", failure.Message);
        Assert.Contains($"{ValidTasks}: Modified", failure.Message);
    }

    [Fact]
    public void Warnings_are_reported_with_location_and_source_line()
    {
        var run = GeneratorRun.Start(TestCompilation.Create(Source + "\npublic static class Unused { public static void M() { int unusedLocal; } }\n"));

        var failure = Assert.Throws<XunitException>(() => GeneratorAssert.CompilesCleanly(run.Output));

        Assert.Contains("Source0.cs(13,", failure.Message);
        Assert.Contains("warning CS0168", failure.Message);
        Assert.Contains("| public static class Unused", failure.Message);
    }

    [Fact]
    public void Listed_diagnostics_are_allowed()
    {
        var run = GeneratorRun.Start(TestCompilation.Create(Source + "\npublic static class Unused { public static void M() { int unusedLocal; } }\n"));

        GeneratorAssert.CompilesCleanly(run.Output, "CS0168");
    }
}
