namespace MageFlow;

/// <summary>
/// A kwarg that may be left unset. Generated builders take one per message member so that
/// "not passed" (unbound) and "passed null" (bound to null) stay distinguishable.
/// </summary>
public readonly struct Optional<T>
{
    private readonly T _value;

    /// <summary>A set kwarg holding <paramref name="value"/> (null included).</summary>
    public Optional(T value)
    {
        _value = value;
        HasValue = true;
    }

    /// <summary>Whether a value was passed.</summary>
    public bool HasValue { get; }

    /// <summary>The value passed; throws <see cref="InvalidOperationException"/> when none was.</summary>
    public T Value => HasValue ? _value : throw new InvalidOperationException("This optional kwarg was not set.");

    /// <summary>Sets the kwarg to <paramref name="value"/>, so callers pass values directly.</summary>
    public static implicit operator Optional<T>(T value) => new(value);

    /// <summary>The value, or <c>&lt;unset&gt;</c>.</summary>
    public override string ToString() => HasValue ? $"{_value}" : "<unset>";
}
