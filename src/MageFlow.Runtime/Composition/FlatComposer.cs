using System.Buffers;
using System.Text;
using System.Text.Json;

namespace MageFlow.Composition;

/// <summary>
/// The common case of rule 2 in one pass, without a DOM: the base's top-level members copied as raw JSON, a bound
/// kwarg written in place of the member it names (case-insensitive, the base's spelling kept) or appended, each value
/// as raw JSON. Returns null whenever the general <see cref="InputComposer.Compose"/> must decide instead — a bound
/// object meeting an object (a deep merge), names that are escaped or not ASCII, kwargs whose names clash, or a base
/// that is not an object — so the two give the same input. Kwargs are checked as strictly as there: JSON, every
/// string readable.
/// </summary>
internal static class FlatComposer
{
    private const int MaxKwargs = 32;
    private const int MaxBaseMembers = 64;

    // One writer and buffer per thread: composing never awaits, and what it wrote is copied into an array rented for it.
    [ThreadStatic] private static ArrayBufferWriter<byte>? _threadBuffer;
    [ThreadStatic] private static Utf8JsonWriter? _threadWriter;

    public static ComposedInput? TryCompose(ReadOnlySpan<byte> baseJson, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs)
    {
        Span<bool> isObject = stackalloc bool[MaxKwargs];
        if (!TryCheckKwargs(kwargs, isObject)) return null;
        Span<bool> written = stackalloc bool[kwargs.Count];
        Span<(int Start, int Length)> names = stackalloc (int, int)[MaxBaseMembers];
        var writer = RentWriter();
        var reader = new Utf8JsonReader(baseJson);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        writer.WriteStartObject();
        var members = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped || members == MaxBaseMembers) return null;
            var nameStart = (int)reader.TokenStartIndex + 1;   // past the opening quote
            var name = baseJson.Slice(nameStart, reader.ValueSpan.Length);
            if (!Ascii.IsValid(name)) return null;
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;
            var baseIsObject = reader.TokenType == JsonTokenType.StartObject;
            reader.Skip();
            var value = baseJson[valueStart..(int)reader.BytesConsumed];
            if (SeenBefore(baseJson, names[..members], name)) continue;   // a duplicate member: the first one wins
            names[members++] = (nameStart, name.Length);
            writer.WritePropertyName(name);
            var bound = IndexOf(kwargs, name);
            if (bound < 0)
            {
                writer.WriteRawValue(value, skipInputValidation: true);
                continue;
            }
            if (baseIsObject && isObject[bound]) return null;   // two objects merge deeply
            writer.WriteRawValue(kwargs[bound].Value, skipInputValidation: true);
            written[bound] = true;
        }
        // Anything after the object's end throws here, as parsing it whole does.
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read()) return null;
        WriteRest(writer, kwargs, written);
        writer.WriteEndObject();
        return Finish(writer);
    }

    public static ComposedInput? TryComposeOverResult(string returnField, ReadOnlySpan<byte> resultJson, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs)
    {
        Span<bool> isObject = stackalloc bool[MaxKwargs];
        if (!TryCheckKwargs(kwargs, isObject) || !Ascii.IsValid(returnField)) return null;
        Span<bool> written = stackalloc bool[kwargs.Count];
        var writer = RentWriter();
        writer.WriteStartObject();
        writer.WritePropertyName(returnField);
        var bound = -1;
        for (var i = 0; i < kwargs.Count && bound < 0; i++)
            if (string.Equals(kwargs[i].Key, returnField, StringComparison.OrdinalIgnoreCase)) bound = i;
        if (bound < 0)
        {
            if (resultJson.IsEmpty) writer.WriteNullValue();
            else writer.WriteRawValue(resultJson, skipInputValidation: true);
        }
        else
        {
            if (isObject[bound] && FirstToken(resultJson) == JsonTokenType.StartObject) return null;
            writer.WriteRawValue(kwargs[bound].Value, skipInputValidation: true);
            written[bound] = true;
        }
        WriteRest(writer, kwargs, written);
        writer.WriteEndObject();
        return Finish(writer);
    }

    /// <summary>
    /// Whether the kwargs suit one pass: few, ASCII names that differ case-insensitively, each value JSON whose every
    /// string is readable — a value that is not throws as the general composer would, naming the kwarg.
    /// </summary>
    private static bool TryCheckKwargs(IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, Span<bool> isObject)
    {
        if (kwargs.Count > MaxKwargs) return false;
        for (var i = 0; i < kwargs.Count; i++)
        {
            var (name, json) = kwargs[i];
            if (!Ascii.IsValid(name)) return false;
            for (var j = 0; j < i; j++)
                if (string.Equals(kwargs[j].Key, name, StringComparison.OrdinalIgnoreCase)) return false;
            isObject[i] = InputComposer.CheckReadable(json, "the bound kwarg", name) == JsonTokenType.StartObject;
        }
        return true;
    }

    private static JsonTokenType FirstToken(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return reader.Read() ? reader.TokenType : JsonTokenType.None;
    }

    private static bool SeenBefore(ReadOnlySpan<byte> baseJson, ReadOnlySpan<(int Start, int Length)> seen, ReadOnlySpan<byte> name)
    {
        foreach (var (start, length) in seen)
            if (Ascii.EqualsIgnoreCase(baseJson.Slice(start, length), name)) return true;
        return false;
    }

    private static int IndexOf(IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < kwargs.Count; i++)
            if (Ascii.EqualsIgnoreCase(name, kwargs[i].Key)) return i;
        return -1;
    }

    /// <summary>The kwargs no member of the base named, in their order.</summary>
    private static void WriteRest(Utf8JsonWriter writer, IReadOnlyList<KeyValuePair<string, byte[]>> kwargs, ReadOnlySpan<bool> written)
    {
        for (var i = 0; i < kwargs.Count; i++)
        {
            if (written[i]) continue;
            writer.WritePropertyName(kwargs[i].Key);
            writer.WriteRawValue(kwargs[i].Value, skipInputValidation: true);
        }
    }

    private static Utf8JsonWriter RentWriter()
    {
        var buffer = _threadBuffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        if (_threadWriter is { } writer) writer.Reset(buffer);
        else _threadWriter = writer = new Utf8JsonWriter(buffer);
        return writer;
    }

    private static ComposedInput Finish(Utf8JsonWriter writer)
    {
        writer.Flush();
        var buffer = _threadBuffer!;
        var result = ComposedInput.Rent(buffer.WrittenSpan);
        // A rare huge input must not stay pinned to the thread.
        if (buffer.Capacity > 64 * 1024) { _threadBuffer = null; _threadWriter = null; }
        return result;
    }
}
