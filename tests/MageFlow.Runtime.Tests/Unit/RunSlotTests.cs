using MageFlow.Backends;
using MageFlow.Execution;

namespace MageFlow.Runtime.Tests.Unit;

/// <summary>A worker's run loop waits on its slot between runs: every entry handed over reaches it, in order, off the hander's thread.</summary>
public sealed class RunSlotTests
{
    [Fact]
    public async Task Each_entry_handed_over_reaches_the_loop_once_whether_the_loop_waits_already_or_not_and_the_loop_ends_on_no_entry()
    {
        var slot = new RunSlot();
        var handed = Enumerable.Range(0, 200).Select(i => new TakenEntry(new MalformedEntry("task", $"{i}-0", "test"))).ToArray();
        var received = new List<string>();
        // Set while Hand runs, with the handing thread: a loop that sees both ran inside Hand, on the hander's thread.
        var handing = false;
        var handerThread = 0;
        var ranInsideHand = 0;
        var idle = new SemaphoreSlim(0);
        var loop = Task.Run(async () =>
        {
            while ((await slot.NextAsync()) is { Entry: not null } taken)
            {
                if (Volatile.Read(ref handing) && Environment.CurrentManagedThreadId == Volatile.Read(ref handerThread)) ranInsideHand++;
                received.Add(taken.Entry.EntryId);
                idle.Release();
            }
        });

        for (var i = 0; i < handed.Length; i++)
        {
            // Every other entry waits a moment, so the loop waits for it already; the others come as the loop goes back to wait.
            if (i % 2 == 1) await Task.Delay(1);
            Volatile.Write(ref handerThread, Environment.CurrentManagedThreadId);
            Volatile.Write(ref handing, true);
            slot.Hand(handed[i]);
            Volatile.Write(ref handing, false);
            Assert.True(await idle.WaitAsync(TimeSpan.FromSeconds(10)), $"entry {i} never reached the loop");
        }
        slot.Hand(default);
        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(handed.Select(t => t.Entry.EntryId), received);
        Assert.Equal(0, ranInsideHand);
    }
}
