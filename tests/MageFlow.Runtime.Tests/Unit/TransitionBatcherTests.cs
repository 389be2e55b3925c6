using System.Collections.Concurrent;
using MageFlow.Backends.Redis;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>Group commit of a transition: what is sent at once, what waits, and whose result reaches whom.</summary>
public sealed class TransitionBatcherTests
{
    [Fact]
    public async Task Calls_go_at_once_while_fewer_batches_than_allowed_are_on_the_wire_and_the_rest_wait_to_go_together()
    {
        var sent = new ConcurrentQueue<(string[] Items, TaskCompletionSource Reply)>();
        var batcher = new TransitionBatcher<string, string>(async items =>
        {
            var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            sent.Enqueue((items.ToArray(), reply));
            await reply.Task;
            return items.Select(item => item == "bad"
                ? ItemResult<string>.Failed(new InvalidDataException($"{item} refused"))
                : ItemResult<string>.Of(item.ToUpperInvariant())).ToArray();
        }, maxBatch: 64);

        var first = batcher.RunAsync("a");
        var second = batcher.RunAsync("b");
        Assert.Equal(2, TransitionBatcher<string, string>.BatchesInFlight);
        Assert.Equal([["a"], ["b"]], sent.Select(batch => batch.Items));

        // Both allowed batches are on the wire: these wait, and then go as one.
        var third = batcher.RunAsync("c");
        var bad = batcher.RunAsync("bad");
        await Task.Delay(50);
        Assert.Equal(2, sent.Count);

        sent.ElementAt(1).Reply.SetResult();
        Assert.Equal("B", await second.WaitAsync(TimeSpan.FromSeconds(5)));
        await WaitUntilAsync(() => sent.Count == 3);
        Assert.Equal(["c", "bad"], sent.ElementAt(2).Items);
        Assert.False(first.IsCompleted);

        sent.ElementAt(0).Reply.SetResult();
        sent.ElementAt(2).Reply.SetResult();
        Assert.Equal("A", await first.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("C", await third.WaitAsync(TimeSpan.FromSeconds(5)));
        // A failing item fails its own caller only.
        Assert.Equal("bad refused", (await Assert.ThrowsAsync<InvalidDataException>(() => bad)).Message);

        // Idle again: the next call goes at once, alone.
        var fourth = batcher.RunAsync("d");
        await WaitUntilAsync(() => sent.Count == 4);
        Assert.Equal(["d"], sent.ElementAt(3).Items);
        sent.ElementAt(3).Reply.SetResult();
        Assert.Equal("D", await fourth.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the batcher did not send in time");
            await Task.Delay(5);
        }
    }
}
