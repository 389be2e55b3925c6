using System.Text.RegularExpressions;
using MageFlow.Generator.Tests.Infrastructure;

namespace MageFlow.Generator.Tests;

/// <summary>
/// Builders are named after the method, in the containing type's namespace (contract.md §2), so two tasks can
/// ask for the same class name. The generator must then still produce compiling code (the analyzers explain),
/// never a cascade of duplicate-definition errors and never an exception that drops every builder. Which of
/// two clashing tasks keeps the name is the generator's choice; the snapshots pin it so a change is reviewed.
/// </summary>
public sealed class NameClashTests
{
    private static int BuildersNamed(GeneratorRun run, string builder) =>
        run.GeneratedSources.Count(source => Regex.IsMatch(source.SourceText.ToString(), $@"\bstatic class {builder}\b"));

    [Fact]
    public void Overloaded_task_methods_emit_one_builder()
    {
        var run = GeneratorAssert.Generates("""
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public sealed record OrderMessage(string OrderId);
            public sealed record CustomerMessage(string CustomerId);

            public static class ImportTasks
            {
                [MageTask("import-orders")]
                public static Task Import(OrderMessage message) => Task.CompletedTask;

                [MageTask("import-customers")]
                public static Task Import(CustomerMessage message) => Task.CompletedTask;
            }
            """);

        Assert.Equal(1, BuildersNamed(run, "Import"));
    }

    [Fact]
    public void Same_method_name_in_two_classes_of_one_namespace()
    {
        var run = GeneratorAssert.Generates("""
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public sealed record OrderMessage(string OrderId);

            public static class OrderImport
            {
                [MageTask("import-orders")]
                public static Task Import(OrderMessage message) => Task.CompletedTask;
            }

            public static class LegacyImport
            {
                [MageTask("import-legacy-orders")]
                public static Task Import(OrderMessage message) => Task.CompletedTask;
            }
            """);

        Assert.Equal(1, BuildersNamed(run, "Import"));
    }

    [Fact]
    public void Builder_name_already_taken_by_a_user_type()
    {
        var run = GeneratorAssert.Generates("""
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public sealed record OrderMessage(string OrderId);

            public sealed class Ship;

            public static class Shipping
            {
                [MageTask]
                public static Task Ship(OrderMessage message) => Task.CompletedTask;

                // Keeps every pipeline step busy, so the usual checks apply in full.
                [MageTask]
                public static Task Pack(OrderMessage message) => Task.CompletedTask;
            }
            """);

        Assert.Equal(0, BuildersNamed(run, "Ship"));
        Assert.Equal(1, BuildersNamed(run, "Pack"));
    }

    [Fact]
    public void Task_named_like_a_builder_member_emits_nothing()
    {
        // A builder class Signature would have to contain its own nested Signature class (CS0542).
        var run = GeneratorAssert.Generates("""
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public sealed record ContractMessage(string ContractId);

            public static class Contracts
            {
                [MageTask]
                public static Task Signature(ContractMessage message) => Task.CompletedTask;

                [MageTask]
                public static Task Archive(ContractMessage message) => Task.CompletedTask;
            }
            """);

        Assert.Equal(0, BuildersNamed(run, "Signature"));
        Assert.Equal(1, BuildersNamed(run, "Archive"));
    }

    [Fact]
    public void Task_names_differing_only_in_case()
    {
        // Roslyn compares hint names ignoring case; one clash would drop every generated file.
        var run = GeneratorAssert.Generates("""
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public sealed record OrderMessage(string OrderId);

            public static class Shipping
            {
                [MageTask("ship-express")]
                public static Task Ship(OrderMessage message) => Task.CompletedTask;

                [MageTask("ship-slow")]
                public static Task SHIP(OrderMessage message) => Task.CompletedTask;
            }
            """);

        Assert.Equal(3, run.GeneratedSources.Length);
    }

    /// <summary>
    /// Claims are settled among valid tasks only (the analyzers agree: no MAGE005 on B.Import). The tests below
    /// assert which files exist rather than keep snapshots: the builders themselves are snapshotted elsewhere.
    /// </summary>
    [Fact]
    public void Invalid_task_claims_no_builder_class()
    {
        // A.Import sorts first but is private: B.Import keeps the builder class Shop.Import.
        var run = GeneratesClean("""
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public sealed record OrderMessage(string OrderId);

            public static class A
            {
                [MageTask]
                private static Task Import(OrderMessage message) => Task.CompletedTask;

                public static Task Run() => Import(new OrderMessage("o-1"));
            }

            public static class B
            {
                [MageTask]
                public static Task Import(OrderMessage message) => Task.CompletedTask;
            }
            """);

        Assert.Equal(["MageFlow.Shop.B.Import.g.cs", "MageFlow.TaskRegistration.g.cs"], run.GeneratedSources.Select(source => source.HintName));
    }

    [Fact]
    public void Tasks_sharing_a_task_name_get_no_builder()
    {
        // The runtime refuses a task name registered twice (MAGE006); which task is meant is for the user to say.
        var run = GeneratesClean("""
            using System.Threading.Tasks;
            using MageFlow;

            public sealed record OrderMessage(string OrderId);

            namespace Shop.Orders
            {
                public static class Orders
                {
                    [MageTask]
                    public static Task ProcessOrder(OrderMessage message) => Task.CompletedTask;

                    [MageTask]
                    public static Task Ship(OrderMessage message) => Task.CompletedTask;
                }
            }

            namespace Shop.Legacy
            {
                public static class Legacy
                {
                    [MageTask]
                    public static Task ProcessOrder(OrderMessage message) => Task.CompletedTask;
                }
            }
            """);

        Assert.Equal(["MageFlow.Shop.Orders.Orders.Ship.g.cs", "MageFlow.TaskRegistration.g.cs"], run.GeneratedSources.Select(source => source.HintName));
    }

    [Fact]
    public void Invalid_tasks_and_builder_losers_claim_no_task_name()
    {
        // Hidden is private and Orders.Process loses its builder class to Legacy.Process: neither is registered,
        // so neither takes a task name from the task that is.
        var run = GeneratesClean("""
            using System.Threading.Tasks;
            using MageFlow;

            namespace Shop;

            public sealed record OrderMessage(string OrderId);

            public static class Tasks
            {
                [MageTask("import")]
                private static Task Hidden(OrderMessage message) => Task.CompletedTask;

                [MageTask("import")]
                public static Task Import(OrderMessage message) => Task.CompletedTask;

                public static Task Run() => Hidden(new OrderMessage("o-1"));
            }

            public static class Legacy
            {
                [MageTask("process")]
                public static Task Process(OrderMessage message) => Task.CompletedTask;
            }

            public static class Orders
            {
                [MageTask("process")]
                public static Task Process(OrderMessage message) => Task.CompletedTask;
            }
            """);

        Assert.Equal(
            ["MageFlow.Shop.Legacy.Process.g.cs", "MageFlow.Shop.Tasks.Import.g.cs", "MageFlow.TaskRegistration.g.cs"],
            run.GeneratedSources.Select(source => source.HintName));
    }

    private static GeneratorRun GeneratesClean(string source)
    {
        var run = GeneratorRun.Start(TestCompilation.Create(source));
        GeneratorAssert.NoGeneratorFailures(run);
        GeneratorAssert.CompilesCleanly(run.Output);
        GeneratorAssert.NoCompilerObjectsInSteps(run);
        GeneratorAssert.FullyCachedOnRerun(run);
        return run;
    }
}
