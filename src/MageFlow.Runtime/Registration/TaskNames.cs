namespace MageFlow;

/// <summary>
/// Refuses names that can never be a task (rule 23) wherever one comes in: signing, and describing a task. The
/// rule itself lives in <c>src/Shared/MageNaming.cs</c>, shared with the generator and the analyzers.
/// </summary>
internal static class TaskNames
{
    public static void ThrowIfInvalid(string? name, string parameter)
    {
        if (Shared.MageNaming.TaskNameProblem(name) is { } problem)
            throw new ArgumentException($"'{Printable(name)}' cannot be a task name: {problem}. Task names may not be empty nor contain ',' ':' or control characters.", parameter);
    }

    private static string Printable(string? name) =>
        name is null ? "(null)" : string.Concat(name.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()));
}
