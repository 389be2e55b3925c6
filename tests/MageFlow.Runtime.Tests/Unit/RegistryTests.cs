namespace MageFlow.Runtime.Tests.Unit;

public sealed class RegistryTests
{
    private sealed record A(string X);

    private sealed record B(string Y);

    [Fact]
    public void Two_tasks_with_one_name_fail_naming_the_task_and_both_message_types()
    {
        var registry = new MageTaskRegistry();
        registry.Add(TaskDescriptor.Create<A>("dup", (_, _, _) => ValueTask.CompletedTask));

        var error = Assert.Throws<InvalidOperationException>(() => registry.Add(TaskDescriptor.Create<B>("dup", (_, _, _) => ValueTask.CompletedTask)));

        Assert.Contains("'dup'", error.Message);
        Assert.Contains(typeof(A).FullName!, error.Message);
        Assert.Contains(typeof(B).FullName!, error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a,b")]
    public void Invalid_task_names_are_rejected(string name) =>
        Assert.ThrowsAny<ArgumentException>(() => TaskDescriptor.Create<A>(name, (_, _, _) => ValueTask.CompletedTask));

    [Fact]
    public void Negative_retries_are_rejected_naming_the_task() =>
        Assert.Contains("'t'", Assert.ThrowsAny<ArgumentException>(() =>
            TaskDescriptor.Create<A>("t", (_, _, _) => ValueTask.CompletedTask, new TaskOptions { Retries = -1 })).Message);
}
