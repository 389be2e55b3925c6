namespace MageFlow.Samples.Orders;

/// <summary>Prints what happens, in order, and counts the callbacks that arrived.</summary>
public sealed class Story
{
    private readonly Lock _gate = new();
    private readonly List<string> _arrivals = [];
    private readonly SemaphoreSlim _arrived = new(0);

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
}
