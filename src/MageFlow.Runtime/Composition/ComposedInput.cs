using System.Buffers;

namespace MageFlow.Composition;

/// <summary>
/// A run's composed input: JSON in an array rented from the shared pool (returned by <see cref="Dispose"/> when the run
/// is over), or JSON used as it is (a queued payload no kwarg changes, or a composition's own array). Every run
/// composes its input and reads it once; an array of its own per run was ~0.1 KB per task (docs/redis-v2-design.md §18).
/// One owner disposes it once; a failed run keeps a copy (<see cref="ToArray"/>), which outlives the run.
/// </summary>
internal readonly struct ComposedInput : IDisposable
{
    private readonly byte[]? _rented;

    public ComposedInput(ReadOnlyMemory<byte> json) => Json = json;

    private ComposedInput(byte[] rented, int length)
    {
        _rented = rented;
        Json = rented.AsMemory(0, length);
    }

    public ReadOnlyMemory<byte> Json { get; }

    /// <summary>A copy of <paramref name="json"/> in an array rented for it.</summary>
    public static ComposedInput Rent(ReadOnlySpan<byte> json)
    {
        var rented = ArrayPool<byte>.Shared.Rent(json.Length);
        json.CopyTo(rented);
        return new ComposedInput(rented, json.Length);
    }

    /// <summary>The JSON in an array of its own, which outlives this input.</summary>
    public byte[] ToArray() => Json.ToArray();

    public void Dispose()
    {
        if (_rented is not null) ArrayPool<byte>.Shared.Return(_rented);
    }
}
