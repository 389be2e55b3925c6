using System.Text.RegularExpressions;
using MageFlow.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit.Sdk;
using static MageFlow.Generator.TrackingNames;

namespace MageFlow.Generator.Tests;

/// <summary>
/// Edits a user would make between two keystrokes, and what the generator may recompute for each:
/// nothing for edits that cannot change a builder, only the affected task's builder otherwise.
/// </summary>
public sealed class IncrementalGenerationTests
{
    private const string MessagesPath = "Messages.cs";
    private const string TasksPath = "Tasks.cs";

    private const string Messages = """
        namespace Shop;

        public sealed record ChargeMessage(string OrderId, decimal Amount);
        public sealed record ShipMessage(string OrderId, string Address);
        """;

    private const string Tasks = """
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public static class OrderTasks
        {
            [MageTask]
            public static Task<decimal> ChargeCard(ChargeMessage message) => Task.FromResult(message.Amount);

            [MageTask]
            public static Task Ship(ShipMessage message) => Task.CompletedTask;
        }

        public sealed class PriceFormatter
        {
            public string Format(decimal amount) => amount.ToString("0.00");
        }
        """;

    private static GeneratorRun FirstRun()
    {
        var compilation = TestCompilation.Create().AddSyntaxTrees(
            TestCompilation.Parse(Messages, MessagesPath),
            TestCompilation.Parse(Tasks, TasksPath));
        var run = GeneratorRun.Start(compilation);
        GeneratorAssert.NoGeneratorFailures(run);
        GeneratorAssert.CompilesCleanly(run.Output);
        GeneratorAssert.EveryTrackedStepRan(run);
        return run;
    }

    private static Compilation Edit(Compilation compilation, string path, string oldText, string newText)
    {
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        var text = tree.GetText().ToString();
        Assert.Contains(oldText, text);
        return compilation.ReplaceSyntaxTree(tree, TestCompilation.Parse(text.Replace(oldText, newText, StringComparison.Ordinal), path));
    }

    private static void SameFiles(GeneratorRun before, GeneratorRun after)
    {
        Assert.Equal(before.GeneratedSources.Select(s => s.HintName), after.GeneratedSources.Select(s => s.HintName));
        foreach (var source in before.GeneratedSources)
            Assert.Equal(source.SourceText.ToString(), after.GeneratedText(source.HintName));
    }

    private static string BuilderHint(GeneratorRun run, string builder) =>
        run.GeneratedSources.Single(source => Regex.IsMatch(source.SourceText.ToString(), $@"\bstatic class {builder}\b")).HintName;

    /// <summary>
    /// The outputs of <paramref name="step"/> whose model mentions <paramref name="method"/> were Modified; there are
    /// others, and each of them was Cached or Unchanged.
    /// </summary>
    private static void OnlyTaskRecomputed(IEnumerable<(object Value, IncrementalStepRunReason Reason)> outputs, string step, string method)
    {
        var all = outputs.ToArray();
        var affected = all.Where(output => Mentions(output.Value, method)).ToArray();
        var others = all.Except(affected).ToArray();
        if (affected.Length == 0)
            throw new XunitException($"No output of {step} mentions {method}; outputs: {string.Join("; ", all.Select(o => o.Value))}");
        Assert.All(affected, output => Assert.Equal(IncrementalStepRunReason.Modified, output.Reason));
        Assert.NotEmpty(others);
        Assert.All(others, output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"{step}: an output not about {method} was {output.Reason}: {output.Value}"));
    }

    // Models are value records, so their text names the method they describe.
    private static bool Mentions(object value, string method) =>
        Regex.IsMatch(value.ToString() ?? "", $@"\b{method}\b");

    [Fact]
    public void Unrelated_file_added_recomputes_nothing()
    {
        var first = FirstRun();

        var second = first.Rerun(first.Input.AddSyntaxTrees(TestCompilation.Parse("""
            namespace Shop.Reporting;

            public static class SalesReport
            {
                public static int Total(int[] amounts) => amounts.Length;
            }
            """, "Reporting.cs")));

        GeneratorAssert.NothingRecomputed(first, second, "Adding an unrelated file");
        SameFiles(first, second);
    }

    [Fact]
    public void Unrelated_member_edited_recomputes_nothing()
    {
        var first = FirstRun();

        var second = first.Rerun(Edit(first.Input, TasksPath,
            """public string Format(decimal amount) => amount.ToString("0.00");""",
            """public string Format(decimal amount, string currency = "EUR") => amount.ToString("0.00") + currency;"""));

        GeneratorAssert.NothingRecomputed(first, second, "Editing an unrelated member");
        SameFiles(first, second);
    }

    [Fact]
    public void Task_method_body_edited_recomputes_nothing()
    {
        var first = FirstRun();

        var second = first.Rerun(Edit(first.Input, TasksPath,
            "=> Task.FromResult(message.Amount);",
            "=> Task.FromResult(message.Amount * 1.2m);"));

        GeneratorAssert.NothingRecomputed(first, second, "Editing a task method's body");
        SameFiles(first, second);
    }

    [Fact]
    public void Message_member_added_recomputes_only_that_task()
    {
        var first = FirstRun();

        var second = first.Rerun(Edit(first.Input, MessagesPath,
            "ChargeMessage(string OrderId, decimal Amount)",
            "ChargeMessage(string OrderId, decimal Amount, string? Coupon)"));

        GeneratorAssert.CompilesCleanly(second.Output);
        OnlyTaskRecomputed(second.StepOutputs(TaskModels), TaskModels, "ChargeCard");
        OnlyTaskRecomputed(second.StepOutputs(ValidTasks), ValidTasks, "ChargeCard");
        OnlyTaskRecomputed(BuilderOutputs(second), "builder source output", "ChargeCard");

        var chargeHint = BuilderHint(first, "ChargeCard");
        var shipHint = BuilderHint(first, "Ship");
        Assert.Contains("coupon", second.GeneratedText(chargeHint), StringComparison.Ordinal);
        Assert.NotEqual(first.GeneratedText(chargeHint), second.GeneratedText(chargeHint));
        Assert.Equal(first.GeneratedText(shipHint), second.GeneratedText(shipHint));
    }

    [Fact]
    public void Task_options_edited_recomputes_only_that_task()
    {
        var first = FirstRun();

        var second = first.Rerun(Edit(first.Input, TasksPath,
            "[MageTask]\n    public static Task<decimal> ChargeCard",
            "[MageTask(Retries = 4)]\n    public static Task<decimal> ChargeCard"));

        OnlyTaskRecomputed(second.StepOutputs(TaskModels), TaskModels, "ChargeCard");
        OnlyTaskRecomputed(second.StepOutputs(ValidTasks), ValidTasks, "ChargeCard");
        OnlyTaskRecomputed(BuilderOutputs(second), "builder source output", "ChargeCard");
        // Registration lines name builders only, so options do not reach the registrations file.
        Assert.All(second.StepOutputs(Registrations), output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
        Assert.Contains("Retries = 4,", second.GeneratedText(BuilderHint(first, "ChargeCard")), StringComparison.Ordinal);
        var shipHint = BuilderHint(first, "Ship");
        Assert.Equal(first.GeneratedText(shipHint), second.GeneratedText(shipHint));
    }

    [Fact]
    public void Task_added_in_new_file_leaves_existing_builders_cached()
    {
        var first = FirstRun();

        var second = first.Rerun(first.Input.AddSyntaxTrees(TestCompilation.Parse("""
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public static class RefundTasks
            {
                [MageTask]
                public static Task Refund(ChargeMessage message) => Task.CompletedTask;
            }
            """, "Refunds.cs")));

        GeneratorAssert.CompilesCleanly(second.Output);
        var validTasks = second.StepOutputs(ValidTasks);
        Assert.Equal(IncrementalStepRunReason.New, Assert.Single(validTasks, output => Mentions(output.Value, "Refund")).Reason);
        Assert.All(validTasks.Where(output => !Mentions(output.Value, "Refund")), output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"{ValidTasks}: an existing task was {output.Reason}: {output.Value}"));
        foreach (var builder in new[] { "ChargeCard", "Ship" })
            Assert.Equal(first.GeneratedText(BuilderHint(first, builder)), second.GeneratedText(BuilderHint(first, builder)));
    }

    // Source outputs fed by one task each; the registrations file's output is the collected list, excluded here.
    private static IEnumerable<(object Value, IncrementalStepRunReason Reason)> BuilderOutputs(GeneratorRun run) =>
        run.SourceOutputs
            .Where(output => Mentions(output.Input, "ChargeCard") != Mentions(output.Input, "Ship"))
            .Select(output => (output.Input, output.Reason));
}
