using System.Text.RegularExpressions;
using MageFlow.Generator.Tests.Infrastructure;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests;

/// <summary>
/// Methods the generator cannot turn into a builder (MAGE005's territory): it emits nothing that mentions them,
/// does not throw, and leaves the rest of the compilation clean and cached. A valid sibling task keeps the whole
/// pipeline running; its output is snapshotted elsewhere, so these tests run the generator once and keep no
/// snapshots of their own.
/// </summary>
public sealed class InvalidShapeTests
{
    private static string Source(string invalidMethod, string otherTypes) => $$"""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using MageFlow;

        namespace Shop;

        public sealed record OrderMessage(string OrderId);
        public sealed record CustomerMessage(string CustomerId);

        public static class OrderTasks
        {
            [MageTask]
            public static Task ValidSibling(OrderMessage message) => Task.CompletedTask;

            {{invalidMethod}}
        }

        {{otherTypes}}
        """;

    /// <param name="methodName">The invalid task, which no generated file may mention.</param>
    /// <param name="invalidMethod">A member of the static class OrderTasks.</param>
    /// <param name="otherTypes">Types declared beside OrderTasks.</param>
    private static void GeneratesNothingFor(
        string methodName,
        string invalidMethod,
        string otherTypes = "")
    {
        var run = GeneratorRun.Start(TestCompilation.Create(Source(invalidMethod, otherTypes)));
        GeneratorAssert.NoGeneratorFailures(run);
        Assert.Contains(run.GeneratedSources, source => source.SourceText.ToString().Contains("class ValidSibling", StringComparison.Ordinal));
        var mentions = run.GeneratedSources
            .Where(source => Regex.IsMatch(source.HintName + "\n" + source.SourceText, $@"\b{methodName}\b"))
            .Select(source => source.HintName)
            .ToArray();
        if (mentions.Length > 0)
            throw new XunitException($"Generated code mentions the invalid task {methodName} in: {string.Join(", ", mentions)}");

        // The valid sibling's output is the snapshot of other tests; here only the pipeline's health counts.
        GeneratorAssert.CompilesCleanly(run.Output);
        GeneratorAssert.EveryTrackedStepRan(run);
        GeneratorAssert.NoCompilerObjectsInSteps(run);
        GeneratorAssert.FullyCachedOnRerun(run);
    }

    [Fact]
    public void Generic_method() => GeneratesNothingFor("GenericTask", """
        [MageTask]
            public static Task GenericTask<TMessage>(TMessage message) => Task.CompletedTask;
        """);

    [Fact]
    public void Ref_parameter() => GeneratesNothingFor("RefTask", """
        [MageTask]
            public static void RefTask(ref OrderMessage message) => message = message with { OrderId = "x" };
        """);

    [Fact]
    public void Two_message_parameters() => GeneratesNothingFor("TwoMessagesTask", """
        [MageTask]
            public static Task TwoMessagesTask(OrderMessage order, CustomerMessage customer) => Task.CompletedTask;
        """);

    // IEnumerable<int> is not here: it is a plain T, serialized as a JSON array (MAGE005 agrees).
    [Fact]
    public void Async_stream_return_type() => GeneratesNothingFor("StreamTask", """
        [MageTask]
            public static async IAsyncEnumerable<int> StreamTask(OrderMessage message)
            {
                await Task.Yield();
                yield return message.OrderId.Length;
            }
        """);

    [Fact]
    public void Awaitable_result_type() => GeneratesNothingFor("NestedTaskTask", """
        [MageTask]
            public static Task<Task<int>> NestedTaskTask(OrderMessage message) => Task.FromResult(Task.FromResult(1));
        """);

    [Fact]
    public void Out_parameter() => GeneratesNothingFor("OutTask", """
        [MageTask]
            public static void OutTask(OrderMessage message, out int length) => length = message.OrderId.Length;
        """);

    [Fact]
    public void Params_parameter() => GeneratesNothingFor("ParamsTask", """
        [MageTask]
            public static Task ParamsTask(params OrderMessage[] messages) => Task.CompletedTask;
        """);

    [Fact]
    public void Instance_method_of_abstract_class() => GeneratesNothingFor("AbstractOwnerTask", "", """
        public abstract class TaskBase
        {
            [MageTask]
            public Task AbstractOwnerTask(OrderMessage message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public void Instance_method_of_struct() => GeneratesNothingFor("StructOwnerTask", "", """
        public readonly struct TaskHolder
        {
            [MageTask]
            public Task StructOwnerTask(OrderMessage message) => Task.CompletedTask;
        }
        """);

    [Fact]
    public void Private_method() => GeneratesNothingFor("PrivateTask", """
        [MageTask]
            private static Task PrivateTask(OrderMessage message) => Task.CompletedTask;

            // Keeps the private task referenced, so the only diagnostics would be the generator's doing.
            public static Task CallPrivate() => PrivateTask(new OrderMessage("o-1"));
        """);

    [Fact]
    public void In_parameter() => GeneratesNothingFor("InTask", """
        [MageTask]
            public static Task InTask(in OrderMessage message) => Task.CompletedTask;
        """);

    [Fact]
    public void Two_cancellation_tokens() => GeneratesNothingFor("TwoTokensTask", """
        [MageTask]
            public static Task TwoTokensTask(OrderMessage message, CancellationToken first, CancellationToken second) => Task.CompletedTask;
        """);

    [Fact]
    public void Protected_method_of_a_class() => GeneratesNothingFor("ProtectedTask", "", """
        public class TaskHost
        {
            [MageTask]
            protected static Task ProtectedTask(OrderMessage message) => Task.CompletedTask;
        }
        """);

    // The runtime refuses these at start-up; a builder for them would only move the failure later.
    [Fact]
    public void Task_name_with_comma() => GeneratesNothingFor("CommaNameTask", """
        [MageTask("orders,vip")]
            public static Task CommaNameTask(OrderMessage message) => Task.CompletedTask;
        """);

    [Fact]
    public void Task_name_with_colon() => GeneratesNothingFor("ColonNameTask", """
        [MageTask("orders:vip")]
            public static Task ColonNameTask(OrderMessage message) => Task.CompletedTask;
        """);

    [Fact]
    public void Negative_retries() => GeneratesNothingFor("NegativeRetriesTask", """
        [MageTask(Retries = -1)]
            public static Task NegativeRetriesTask(OrderMessage message) => Task.CompletedTask;
        """);
}
