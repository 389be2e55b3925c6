using StackExchange.Redis;

namespace MageFlow.Backends.Redis;

/// <summary>
/// One FCALL's arguments, written once into the array the call sends: the function's name, the key count, the keys,
/// then the values. FCALL has no typed API in StackExchange.Redis: every argument travels as an object. The first key
/// is a <see cref="RedisKey"/>, which routes the call to its slot's node; the others go as their strings (the server
/// checks that every key of a script lies in one slot), so no key is boxed but that one and those made of a prefix and a
/// name (<see cref="KeyInParts"/>). A value hands over its own
/// string or byte array (<see cref="RedisValue.Box"/>), and a whole number one of the two boxes last made when it is the
/// same (the lifetimes every item of a batch carries).
/// </summary>
internal sealed class ScriptArguments
{
    private readonly object[] _sent;
    private readonly int _firstValue;
    private int _next;
    private (long Number, object Box)? _lastNumber;
    private (long Number, object Box)? _numberBefore;

    public ScriptArguments(string functionName, int keys, int values)
    {
        _sent = new object[2 + keys + values];
        _sent[0] = functionName;
        _sent[1] = ((RedisValue)keys).Box()!;
        _next = 2;
        _firstValue = 2 + keys;
    }

    public void Key(RedisKey key)
    {
        if (_next >= _firstValue) throw new InvalidOperationException("A key is written after the values.");
        _sent[_next] = _next == 2 ? key : (object?)(string?)key ?? throw new ArgumentException("A script's key is null.", nameof(key));
        _next++;
    }

    /// <summary>
    /// A key made of a prefix and a name (<see cref="RedisKey.Prepend"/>, a signature's key), sent in its parts: its box
    /// is smaller than the string joining them (docs/redis-v2-design.md §18).
    /// </summary>
    public void KeyInParts(RedisKey key)
    {
        if (_next >= _firstValue) throw new InvalidOperationException("A key is written after the values.");
        if (key == default(RedisKey)) throw new ArgumentException("A script's key is null.", nameof(key));
        _sent[_next++] = key;
    }

    public void Value(RedisValue value) => _sent[_next++] = value.Box() ?? RedisValue.Null;

    public void Values(params ReadOnlySpan<RedisValue> values)
    {
        foreach (var value in values) Value(value);
    }

    public void Value(long number)
    {
        object box;
        if (_lastNumber is { } last && last.Number == number) box = last.Box;
        else if (_numberBefore is { } before && before.Number == number) box = before.Box;
        else
        {
            box = ((RedisValue)number).Box()!;
            _numberBefore = _lastNumber;
            _lastNumber = (number, box);
        }
        _sent[_next++] = box;
    }

    /// <summary>The array to send, once every argument is written.</summary>
    public object[] ToSend() =>
        _next == _sent.Length ? _sent : throw new InvalidOperationException($"{_sent.Length - _next} of the call's arguments were not written.");
}
