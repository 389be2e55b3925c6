using System.Text;
using System.Text.Json;

namespace MageFlow;

/// <summary>
/// A task's composed input does not fit its message type (semantics rule 9). Never retried: the signature
/// becomes <see cref="SignatureStatus.Failed"/> and its error callbacks fire.
/// </summary>
public sealed class MessageDeserializationException : Exception
{
    private MessageDeserializationException(string message, string taskName, Type messageType, string? memberPath, Exception inner)
        : base(message, inner)
    {
        TaskName = taskName;
        MessageType = messageType;
        MemberPath = memberPath;
    }

    /// <summary>The task whose input did not fit.</summary>
    public string TaskName { get; }

    /// <summary>The task's message type.</summary>
    public Type MessageType { get; }

    /// <summary>JSON path of the offending member (<c>$.receipt.charged</c>), when known.</summary>
    public string? MemberPath { get; }

    internal static MessageDeserializationException From(string taskName, Type messageType, ReadOnlyMemory<byte> input, JsonException ex, JsonSerializerOptions options)
    {
        var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? null : ex.Path;
        var text = new StringBuilder()
            .Append("Task '").Append(taskName).Append("': the input does not fit message type ")
            .Append(messageType.FullName);
        if (path is not null)
        {
            text.Append(": member '").Append(path).Append('\'');
            var expected = ExpectedTypeAt(options, messageType, path);
            if (expected is not null) text.Append(" expects ").Append(expected.FullName);
            var found = DescribeValueAt(input, path);
            if (found is not null) text.Append(" holds ").Append(found);
        }
        text.Append(". ").Append(ex.Message);
        return new MessageDeserializationException(text.ToString(), taskName, messageType, path, ex);
    }

    /// <summary>The declared type of the member at a simple <c>$.a.b</c> path, from the serializer's own metadata.</summary>
    private static Type? ExpectedTypeAt(JsonSerializerOptions options, Type messageType, string path)
    {
        try
        {
            var type = messageType;
            foreach (var segment in path.TrimStart('$').Split('.', StringSplitOptions.RemoveEmptyEntries))
            {
                if (segment.Contains('[')) return null;
                var info = options.GetTypeInfo(type);
                var property = info.Properties.FirstOrDefault(p => string.Equals(p.Name, segment, StringComparison.OrdinalIgnoreCase));
                if (property is null) return null;
                type = property.PropertyType;
            }
            return type;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Says what JSON sits at a simple <c>$.a.b</c> path, so the error names both sides of the mismatch.</summary>
    private static string? DescribeValueAt(ReadOnlyMemory<byte> input, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(input);
            var element = document.RootElement;
            foreach (var segment in path.TrimStart('$').Split('.', StringSplitOptions.RemoveEmptyEntries))
            {
                if (segment.Contains('[') || element.ValueKind != JsonValueKind.Object) return null;
                var found = false;
                foreach (var property in element.EnumerateObject())
                {
                    if (!string.Equals(property.Name, segment, StringComparison.OrdinalIgnoreCase)) continue;
                    element = property.Value;
                    found = true;
                    break;
                }
                if (!found) return null;
            }
            var raw = element.GetRawText();
            if (raw.Length > 80) raw = raw[..77] + "...";
            return $"JSON {element.ValueKind.ToString().ToLowerInvariant()} {raw}";
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
