using System.Collections.Concurrent;

namespace MageFlow.Samples.Orders;

/// <summary>Prints what happens, in order, counts the callbacks that arrived, and tells when a task body reached a milestone.</summary>
public sealed class Story
{
    private readonly Lock _gate = new();
    private readonly List<string> _arrivals = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _milestones = new(StringComparer.Ordinal);

    public void Step(string text)
    {
        lock (_gate) Console.WriteLine($"\n{text}");
    }

    public void Say(string task, string text)
    {
        lock (_gate) Console.WriteLine($"    [{task}] {text}");
    }

    public void Arrived(string task, string text)
    {
        lock (_gate)
        {
            Console.WriteLine($"  ✓ [{task}] {text}");
            _arrivals.Add(task);
        }
        _arrived.Release();
    }

    public IReadOnlyList<string> Arrivals
    {
        get { lock (_gate) return _arrivals.ToArray(); }
    }

    /// <summary>Waits until <paramref name="count"/> callbacks in total have arrived, or the timeout passes.</summary>
    public async Task<bool> WaitForArrivalsAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Arrivals.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left)) return Arrivals.Count >= count;
        }
        return true;
    }

    /// <summary>Records that a task body got somewhere (a body started, a body stopped); the first time counts.</summary>
    public void Reached(string milestone) => Milestone(milestone).TrySetResult();

    /// <summary>Waits until a task body has reached <paramref name="milestone"/>; past the timeout the scene cannot go on, so it throws.</summary>
    public async Task WaitUntilReachedAsync(string milestone, TimeSpan timeout)
    {
        try
        {
            await Milestone(milestone).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Waited {timeout.TotalSeconds:0} s for '{milestone}'. Run with --verbose to see the worker's log.");
        }
    }

    private TaskCompletionSource Milestone(string milestone) =>
        _milestones.GetOrAdd(milestone, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
