using System.Collections.Concurrent;
using MageFlow.Backends.Redis;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>Group commit of a transition: what is sent at once, what waits, and whose result reaches whom.</summary>
public sealed class TransitionBatcherTests
{
    private const int InFlight = TransitionBatcher<string, string>.BatchesInFlight;

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

        // Each call goes at once, alone, until the allowed batches are all on the wire.
        var alone = Enumerable.Range(0, InFlight).Select(i => $"a{i}").ToArray();
        var aloneResults = alone.Select(item => batcher.RunAsync(item).AsTask()).ToArray();
        Assert.Equal(alone.Select(item => new[] { item }), sent.Select(batch => batch.Items));

        // These wait, and then go as one.
        var waiting = batcher.RunAsync("c").AsTask();
        var bad = batcher.RunAsync("bad").AsTask();
        await Task.Delay(50);
        Assert.Equal(InFlight, sent.Count);

        sent.ElementAt(InFlight - 1).Reply.SetResult();
        Assert.Equal(alone[^1].ToUpperInvariant(), await aloneResults[^1].WaitAsync(TimeSpan.FromSeconds(5)));
        await WaitUntilAsync(() => sent.Count == InFlight + 1);
        Assert.Equal(["c", "bad"], sent.ElementAt(InFlight).Items);
        Assert.False(aloneResults[0].IsCompleted);

        foreach (var batch in sent) batch.Reply.TrySetResult();
        Assert.Equal(alone.Select(item => item.ToUpperInvariant()), await Task.WhenAll(aloneResults).WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("C", await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        // A failing item fails its own caller only.
        Assert.Equal("bad refused", (await Assert.ThrowsAsync<InvalidDataException>(() => bad)).Message);

        // Idle again: the next call goes at once, alone.
        var last = batcher.RunAsync("d").AsTask();
        await WaitUntilAsync(() => sent.Count == InFlight + 2);
        Assert.Equal(["d"], sent.ElementAt(InFlight + 1).Items);
        sent.ElementAt(InFlight + 1).Reply.SetResult();
        Assert.Equal("D", await last.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Waits_are_reused_and_each_caller_still_gets_its_own_result_or_error_never_a_former_callers()
    {
        // Replies come on the thread pool, as a server's do; the callers await the value tasks themselves, as a worker does.
        var batcher = new TransitionBatcher<string, string>(async items =>
        {
            await Task.Yield();
            return items.Select(item => item.StartsWith("bad", StringComparison.Ordinal)
                ? ItemResult<string>.Failed(new InvalidDataException($"{item} refused"))
                : ItemResult<string>.Of(item.ToUpperInvariant())).ToArray();
        }, maxBatch: 4);

        var callers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            for (var call = 0; call < 200; call++)
            {
                var item = call % 3 == 0 ? $"bad-{caller}-{call}" : $"ok-{caller}-{call}";
                try
                {
                    var result = await batcher.RunAsync(item);
                    Assert.Equal(item.ToUpperInvariant(), result);
                    Assert.StartsWith("ok", item, StringComparison.Ordinal);
                }
                catch (InvalidDataException ex)
                {
                    Assert.Equal($"{item} refused", ex.Message);
                }
            }
        }));

        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_value_task_read_twice_throws_and_does_not_put_its_wait_back_twice()
    {
        var batcher = new TransitionBatcher<string, string>(async items =>
        {
            await Task.Yield();
            return items.Select(item => ItemResult<string>.Of(item.ToUpperInvariant())).ToArray();
        }, maxBatch: 4);
        var first = batcher.RunAsync("a");
        Assert.Equal("A", await first);

        // The misuse fails loudly, and the wait (back in the pool once) serves one caller at a time after it.
        // (.Result asks for the result without asking for the status first, as a second await would.)
        Assert.Throws<InvalidOperationException>(() => first.Result);
        var next = await Task.WhenAll(batcher.RunAsync("b").AsTask(), batcher.RunAsync("c").AsTask()).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(["B", "C"], next);
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
