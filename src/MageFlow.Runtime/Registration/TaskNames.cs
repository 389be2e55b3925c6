namespace MageFlow;

/// <summary>
/// What a task name may be (rule 23): it is part of Redis keys and of comma-joined lists, so a name that is empty,
/// or holds <c>,</c> <c>:</c> or a control character, can never be a task and is refused wherever it comes in.
/// </summary>
internal static class TaskNames
{
    /// <summary>Why <paramref name="name"/> cannot be a task name, or null when it can.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "it is empty";
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == ',') return "it contains ','";
            if (c == ':') return "it contains ':'";
            if (char.IsControl(c)) return $"it contains the control character U+{(int)c:X4}";
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1])) i++;
            else if (char.IsSurrogate(c)) return $"it contains a lone surrogate U+{(int)c:X4}";
        }
        return null;
    }

    public static void ThrowIfInvalid(string? name, string parameter)
    {
        if (Problem(name) is { } problem)
            throw new ArgumentException($"'{Printable(name)}' cannot be a task name: {problem}. Task names may not be empty nor contain ',' ':' or control characters.", parameter);
    }

    private static string Printable(string? name) =>
        name is null ? "(null)" : string.Concat(name.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()));
}
