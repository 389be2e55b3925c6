using System.Buffers;
using System.Text;
using System.Text.Json;

namespace MageFlow.Composition;

/// <summary>
/// Builds the input a task receives (semantics rule 2): <c>deepMerge(base, bound)</c> where bound is the
/// signature's kwargs overlaid by call-time kwargs. Works on UTF-8 JSON with <see cref="JsonDocument"/>
/// (pooled) and <see cref="Utf8JsonWriter"/>, never on a mutable DOM.
/// </summary>
internal static class InputComposer
{
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    /// <summary>The base of a callback run: <c>{ "returnField": result }</c>.</summary>
    public static byte[] WrapResult(string returnField, ReadOnlySpan<byte> resultJson)
    {
        var buffer = new ArrayBufferWriter<byte>(resultJson.Length + returnField.Length + 8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName(returnField);
            if (resultJson.IsEmpty) writer.WriteNullValue();
            else writer.WriteRawValue(resultJson, skipInputValidation: true);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The input of a callback run: <c>{ "returnField": result }</c> (<see cref="WrapResult"/>) composed with the kwargs,
    /// in one pass when no bound object meets an object result.
    /// </summary>
    public static ComposedInput ComposeOverResult(
        string returnField,
        ReadOnlyMemory<byte> resultJson,
        IReadOnlyList<KeyValuePair<string, byte[]>> storedKwargs,
        ReadOnlyMemory<byte> callTimeKwargs,
        ReadOnlyMemory<byte> containerKwargs = default)
    {
        if (callTimeKwargs.IsEmpty && containerKwargs.IsEmpty && FlatComposer.TryComposeOverResult(returnField, resultJson.Span, storedKwargs) is { } flat)
            return flat;
        return ComposeForRun(WrapResult(returnField, resultJson.Span), storedKwargs, callTimeKwargs, containerKwargs);
    }

    /// <summary>
    /// Composes the input. <paramref name="storedKwargs"/> are the signature's bound kwargs (top-level name →
    /// JSON); <paramref name="callTimeKwargs"/> and <paramref name="containerKwargs"/> are JSON objects or empty. Throws <see cref="JsonException"/>
    /// when a payload is not valid JSON.
    /// </summary>
    public static byte[] Compose(
        ReadOnlyMemory<byte> baseJson,
        IReadOnlyList<KeyValuePair<string, byte[]>> storedKwargs,
        ReadOnlyMemory<byte> callTimeKwargs,
        ReadOnlyMemory<byte> containerKwargs = default)
    {
        using var composed = ComposeForRun(baseJson, storedKwargs, callTimeKwargs, containerKwargs);
        return composed.ToArray();
    }

    /// <summary>
    /// <see cref="Compose"/> for a run, which reads its input once and disposes it when it is over: no copy of a base no
    /// kwarg changes, and the one-pass composition in a rented array.
    /// </summary>
    public static ComposedInput ComposeForRun(
        ReadOnlyMemory<byte> baseJson,
        IReadOnlyList<KeyValuePair<string, byte[]>> storedKwargs,
        ReadOnlyMemory<byte> callTimeKwargs,
        ReadOnlyMemory<byte> containerKwargs = default)
    {
        if (storedKwargs.Count == 0 && callTimeKwargs.IsEmpty && containerKwargs.IsEmpty)
            return new ComposedInput(baseJson.IsEmpty ? EmptyObject : baseJson);
        if (callTimeKwargs.IsEmpty && containerKwargs.IsEmpty && FlatComposer.TryCompose(baseJson.IsEmpty ? EmptyObject : baseJson.Span, storedKwargs) is { } flat)
            return flat;
        return new ComposedInput(ComposeMerging(baseJson, storedKwargs, callTimeKwargs, containerKwargs));
    }

    /// <summary><see cref="Compose"/> through documents: every case, deep merges included (the one-pass <see cref="FlatComposer"/> hands those here).</summary>
    internal static byte[] ComposeMerging(
        ReadOnlyMemory<byte> baseJson,
        IReadOnlyList<KeyValuePair<string, byte[]>> storedKwargs,
        ReadOnlyMemory<byte> callTimeKwargs,
        ReadOnlyMemory<byte> containerKwargs = default)
    {
        var documents = new List<JsonDocument>(storedKwargs.Count + 2);
        try
        {
            // bound = stored kwargs overlaid by call-time kwargs: call-time wins, shallow.
            var bound = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
            var order = new List<string>();
            foreach (var (name, json) in storedKwargs)
            {
                CheckReadable(json, "the bound kwarg", name);
                var document = JsonDocument.Parse(json);
                documents.Add(document);
                Bind(bound, order, name, document.RootElement);
            }
            // A chain's or swarm's kwargs are call-time kwargs of its children (rules 27, 28), below the run's own.
            BindObject(containerKwargs, "the chain's or swarm's kwargs");
            BindObject(callTimeKwargs, "the call-time kwargs");

            void BindObject(ReadOnlyMemory<byte> json, string what)
            {
                if (json.IsEmpty) return;
                var document = Parse(json, what);
                documents.Add(document);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    throw new JsonException($"{char.ToUpperInvariant(what[4])}{what[5..]} must be a JSON object, got {document.RootElement.ValueKind}.");
                foreach (var property in document.RootElement.EnumerateObject())
                    Bind(bound, order, property.Name, property.Value);
            }

            var baseDocument = JsonDocument.Parse(baseJson.IsEmpty ? EmptyObject : baseJson);
            documents.Add(baseDocument);

            var buffer = new ArrayBufferWriter<byte>(baseJson.Length + 64 * order.Count);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                if (baseDocument.RootElement.ValueKind == JsonValueKind.Object)
                    WriteMergedObject(writer, baseDocument.RootElement, bound, order);
                else if (bound.Count == 0)
                    baseDocument.RootElement.WriteTo(writer);
                else
                    throw new JsonException($"The message must be a JSON object to take bound kwargs, got {baseDocument.RootElement.ValueKind}.");
            }
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            foreach (var document in documents) document.Dispose();
        }
    }

    /// <summary>Parses a bound value, once <see cref="CheckReadable"/> has read it through, naming <paramref name="what"/> when it cannot be read.</summary>
    private static JsonDocument Parse(ReadOnlyMemory<byte> json, string what)
    {
        CheckReadable(json.Span, what);
        return JsonDocument.Parse(json);
    }

    /// <summary>True when <paramref name="json"/> is a JSON object whose names and strings can all be read: usable as an input's base.</summary>
    public static bool CanBeBase(ReadOnlyMemory<byte> json)
    {
        try
        {
            return CheckReadable(json.Span, "the base") == JsonTokenType.StartObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads a JSON value through, every name and string in it included, and returns its first token: a value that is
    /// not JSON, or holds text that is not valid Unicode (an escaped lone surrogate), throws <see cref="JsonException"/>
    /// saying that <paramref name="what"/> (and <paramref name="name"/>, quoted, when given) cannot be read. The one
    /// statement of what a readable value is, for both composers; it allocates nothing for plain ASCII text.
    /// </summary>
    internal static JsonTokenType CheckReadable(ReadOnlySpan<byte> json, string what, string? name = null)
    {
        char[]? rented = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read()) throw new JsonException("it is empty.");
            var first = reader.TokenType;
            do
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName)) continue;
                if (!reader.ValueIsEscaped && Ascii.IsValid(reader.ValueSpan)) continue;
                // Escapes or non-ASCII text: transcoding proves it readable.
                var length = reader.ValueSpan.Length;
                if (rented is null || rented.Length < length)
                {
                    if (rented is not null) ArrayPool<char>.Shared.Return(rented);
                    rented = ArrayPool<char>.Shared.Rent(length);
                }
                reader.CopyString(rented);
            }
            while (reader.Read());
            return first;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new JsonException($"{(name is null ? what : $"{what} '{name}'")} cannot be read: {ex.Message}", ex);
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    private static void Bind(Dictionary<string, JsonElement> bound, List<string> order, string name, JsonElement value)
    {
        if (!bound.ContainsKey(name)) order.Add(name);
        else order[order.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))] = name;
        bound.Remove(name);
        bound[name] = value;
    }

    private static void WriteMergedObject(Utf8JsonWriter writer, JsonElement baseObject, Dictionary<string, JsonElement> overlay, List<string> overlayOrder)
    {
        writer.WriteStartObject();
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in baseObject.EnumerateObject())
        {
            if (!used.Add(property.Name)) continue; // a duplicate key in the message: first one wins
            writer.WritePropertyName(property.Name);
            if (overlay.TryGetValue(property.Name, out var boundValue)) WriteMerged(writer, property.Value, boundValue);
            else property.Value.WriteTo(writer);
        }
        foreach (var name in overlayOrder)
        {
            if (used.Contains(name)) continue;
            writer.WritePropertyName(name);
            overlay[name].WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    /// <summary>Deep merge: two objects merge key by key, anything else is replaced by the bound value.</summary>
    private static void WriteMerged(Utf8JsonWriter writer, JsonElement baseValue, JsonElement boundValue)
    {
        if (baseValue.ValueKind != JsonValueKind.Object || boundValue.ValueKind != JsonValueKind.Object)
        {
            boundValue.WriteTo(writer);
            return;
        }
        var overlay = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        var order = new List<string>();
        foreach (var property in boundValue.EnumerateObject())
            Bind(overlay, order, property.Name, property.Value);
        WriteMergedObject(writer, baseValue, overlay, order);
    }
}
