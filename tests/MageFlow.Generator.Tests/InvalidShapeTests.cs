using System.Text.RegularExpressions;
using MageFlow.Generator.Tests.Infrastructure;
using Xunit.Sdk;

namespace MageFlow.Generator.Tests;

/// <summary>
/// Methods the generator cannot turn into a builder (MAGE005's territory): it emits nothing for them, does not
/// throw, and leaves the rest of the compilation clean. A valid sibling task keeps the whole pipeline running.
/// </summary>
public sealed class InvalidShapeTests
{
    private static string Source(string invalidMethod) => $$"""
        using System.Collections.Generic;
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
        """;

    private static void GeneratesNothingFor(string methodName, string invalidMethod, [System.Runtime.CompilerServices.CallerMemberName] string testMethod = "")
    {
        var run = GeneratorAssert.Generates([Source(invalidMethod)], testMethod: testMethod);

        Assert.Contains(run.GeneratedSources, source => source.SourceText.ToString().Contains("class ValidSibling", StringComparison.Ordinal));
        var mentions = run.GeneratedSources
            .Where(source => Regex.IsMatch(source.HintName + "\n" + source.SourceText, $@"\b{methodName}\b"))
            .Select(source => source.HintName)
            .ToArray();
        if (mentions.Length > 0)
            throw new XunitException($"Generated code mentions the invalid task {methodName} in: {string.Join(", ", mentions)}");
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

    [Fact]
    public void Unsupported_return_type() => GeneratesNothingFor("EnumerableTask", """
        [MageTask]
            public static IEnumerable<int> EnumerableTask(OrderMessage message) => [1, 2, 3];
        """);

    [Fact]
    public void Private_method() => GeneratesNothingFor("PrivateTask", """
        [MageTask]
            private static Task PrivateTask(OrderMessage message) => Task.CompletedTask;

            // Keeps the private task referenced, so the only diagnostics would be the generator's doing.
            public static Task CallPrivate() => PrivateTask(new OrderMessage("o-1"));
        """);
}
