using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace MageFlow.Benchmarks.Profiling;

/// <summary>One allocated type's share of a sampled run.</summary>
internal sealed record AllocatedType(string TypeName, double BytesPerTask, double Share);

/// <summary>
/// What a run allocates, by type: the runtime's own allocation sampling (the GCAllocationTick event, raised about
/// every 100 KB allocated, naming the type whose allocation crossed the mark), listened to in-process. A sample
/// stands for the ~100 KB before it, so a type's bytes are estimates, good to a few percent over a run of megabytes —
/// enough to say where the bytes per task go. Only while enabled (a diagnostic: the events cost a little).
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int AllocationTickEventId = 10;

    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    private volatile bool _sampling;

    public void Start()
    {
        _bytesByType.Clear();
        _sampling = true;
    }

    public void Stop() => _sampling = false;

    /// <summary>The types that took most of the bytes sampled, as bytes per task over <paramref name="tasks"/>.</summary>
    public IReadOnlyList<AllocatedType> Result(int tasks, int top)
    {
        var total = (double)_bytesByType.Values.Sum();
        if (total == 0) return [];
        return _bytesByType
            .OrderByDescending(pair => pair.Value)
            .Take(top)
            .Select(pair => new AllocatedType(pair.Key, pair.Value / (double)tasks, pair.Value / total))
            .ToArray();
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource) EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_sampling || eventData.EventId != AllocationTickEventId || eventData.PayloadNames is not { } names) return;
        var typeName = "?";
        long bytes = 0;
        for (var i = 0; i < names.Count; i++)
        {
            switch (names[i])
            {
                case "TypeName": typeName = eventData.Payload![i] as string ?? "?"; break;
                // AllocationAmount (32 bits) comes first; AllocationAmount64, when the event has it, after it.
                case "AllocationAmount" or "AllocationAmount64": bytes = Convert.ToInt64(eventData.Payload![i], System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }
        _bytesByType.AddOrUpdate(typeName, bytes, (_, sum) => sum + bytes);
    }
}
