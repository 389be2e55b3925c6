namespace MageFlow;

/// <summary>
/// A kwarg that may be left unset. Generated builders take one per message member so that
/// "not passed" (unbound) and "passed null" (bound to null) stay distinguishable.
/// </summary>
public readonly struct Optional<T>
{
    private readonly T _value;

    public Optional(T value)
    {
        _value = value;
        HasValue = true;
    }

    public bool HasValue { get; }

    public T Value => HasValue ? _value : throw new InvalidOperationException("This optional kwarg was not set.");

    public static implicit operator Optional<T>(T value) => new(value);

    public override string ToString() => HasValue ? $"{_value}" : "<unset>";
}
