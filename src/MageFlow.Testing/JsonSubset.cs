using System.Text.Json;

namespace MageFlow.Testing;

/// <summary>
/// "Does the actual input contain the expected one": every member of an expected object must be in the actual object
/// (names compared case-insensitively, as MageFlow reads them) with a matching value; arrays match element by element
/// and must be as long; numbers compare by value (12.5 = 12.50); anything else compares exactly.
/// </summary>
internal static class JsonSubset
{
    /// <summary>Null when <paramref name="actual"/> contains <paramref name="expected"/>; otherwise where and how they first differ.</summary>
    public static string? FirstDifference(JsonElement expected, JsonElement actual, string path = "$")
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                if (actual.ValueKind != JsonValueKind.Object) return Mismatch(path, expected, actual);
                foreach (var member in expected.EnumerateObject())
                {
                    if (!TryGetMember(actual, member.Name, out var actualValue)) return $"{path}.{member.Name} is missing";
                    if (FirstDifference(member.Value, actualValue, $"{path}.{member.Name}") is { } difference) return difference;
                }
                return null;
            case JsonValueKind.Array:
                if (actual.ValueKind != JsonValueKind.Array) return Mismatch(path, expected, actual);
                if (expected.GetArrayLength() != actual.GetArrayLength())
                    return $"{path}: expected {expected.GetArrayLength()} items, got {actual.GetArrayLength()}: {actual.GetRawText()}";
                var index = 0;
                foreach (var (expectedItem, actualItem) in expected.EnumerateArray().Zip(actual.EnumerateArray()))
                {
                    if (FirstDifference(expectedItem, actualItem, $"{path}[{index++}]") is { } difference) return difference;
                }
                return null;
            case JsonValueKind.Number:
                return actual.ValueKind == JsonValueKind.Number && NumbersEqual(expected, actual) ? null : Mismatch(path, expected, actual);
            case JsonValueKind.String:
                return actual.ValueKind == JsonValueKind.String && expected.GetString() == actual.GetString() ? null : Mismatch(path, expected, actual);
            default:
                return expected.ValueKind == actual.ValueKind ? null : Mismatch(path, expected, actual);
        }
    }

    private static bool TryGetMember(JsonElement obj, string name, out JsonElement value)
    {
        foreach (var member in obj.EnumerateObject())
        {
            if (string.Equals(member.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = member.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    private static bool NumbersEqual(JsonElement expected, JsonElement actual) =>
        expected.TryGetDecimal(out var left) && actual.TryGetDecimal(out var right)
            ? left == right
            : expected.GetDouble().Equals(actual.GetDouble());

    private static string Mismatch(string path, JsonElement expected, JsonElement actual) =>
        $"{path}: expected {expected.GetRawText()}, got {(actual.ValueKind == JsonValueKind.Undefined ? "nothing" : actual.GetRawText())}";
}
