using System.ComponentModel;
using System.Text.Json;

namespace MageFlow;

/// <summary>
/// Bound kwargs on their way to storage: an ordered set of top-level wire names, each with its value as
/// UTF-8 JSON. Generated builders fill it member by member; by-name signing fills it from an object.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class KwargsBuilder
{
    private readonly List<KeyValuePair<string, byte[]>> _entries = [];
    private readonly JsonSerializerOptions _options;

    /// <summary>An empty set whose values <see cref="Add{T}"/> serializes with <paramref name="options"/>.</summary>
    public KwargsBuilder(JsonSerializerOptions options) => _options = options;

    /// <summary>How many kwargs are bound.</summary>
    public int Count => _entries.Count;

    internal IReadOnlyList<KeyValuePair<string, byte[]>> Entries => _entries;

    /// <summary>Binds <paramref name="wireName"/> to <paramref name="value"/>, replacing an earlier binding of the same name.</summary>
    public KwargsBuilder Add<T>(string wireName, T value) =>
        AddJson(wireName, JsonSerializer.SerializeToUtf8Bytes(value, _options.TypeInfo<T>()));

    /// <summary>Binds <paramref name="wireName"/> to the value of <paramref name="value"/> when one was passed (null included); otherwise binds nothing.</summary>
    public KwargsBuilder AddIfSet<T>(string wireName, Optional<T> value) =>
        value.HasValue ? Add(wireName, value.Value) : this;

    /// <summary>Binds <paramref name="wireName"/> to a value already serialized as UTF-8 JSON.</summary>
    public KwargsBuilder AddJson(string wireName, byte[] utf8Json)
    {
        ArgumentException.ThrowIfNullOrEmpty(wireName);
        // Names are stored as text: one that is not valid Unicode would be changed on the way, so it is refused.
        for (var i = 0; i < wireName.Length; i++)
        {
            if (char.IsHighSurrogate(wireName[i]) && i + 1 < wireName.Length && char.IsLowSurrogate(wireName[i + 1])) i++;
            else if (char.IsSurrogate(wireName[i]))
                throw new ArgumentException($"The kwarg name '{string.Concat(wireName.Select(c => char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()))}' holds a lone surrogate, which is not valid Unicode text.", nameof(wireName));
        }
        var index = _entries.FindIndex(e => string.Equals(e.Key, wireName, StringComparison.OrdinalIgnoreCase));
        if (index >= 0) _entries[index] = new(wireName, utf8Json);
        else _entries.Add(new(wireName, utf8Json));
        return this;
    }

    /// <summary>
    /// Reads kwargs from an anonymous object, a dictionary, a <see cref="System.Text.Json.Nodes.JsonObject"/> or
    /// any object that serializes to a JSON object. <c>null</c> means no kwargs.
    /// </summary>
    public static KwargsBuilder FromObject(object? kwargs, JsonSerializerOptions options)
    {
        var builder = new KwargsBuilder(options);
        if (kwargs is null) return builder;
        if (kwargs is KwargsBuilder ready) return ready;
        using var document = JsonSerializer.SerializeToDocument(kwargs, kwargs.GetType(), options);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new ArgumentException(
                $"Kwargs must serialize to a JSON object (an anonymous object, a dictionary or a record); a {kwargs.GetType().FullName} serializes to a JSON {document.RootElement.ValueKind}.",
                nameof(kwargs));
        foreach (var property in document.RootElement.EnumerateObject())
            builder.AddJson(property.Name, JsonSerializer.SerializeToUtf8Bytes(property.Value));
        return builder;
    }
}
