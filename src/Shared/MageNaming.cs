using System.Text;

namespace MageFlow.Shared;

/// <summary>
/// The naming rules the generator and the analyzers must agree on (compiled into both; the runtime's
/// MageJson applies the same wire rule at run time): default task names and member wire names.
/// </summary>
internal static class MageNaming
{
    public const string FallbackReturnMember = "MageflowResults";

    public const string FallbackReturnField = "mageflow_results";

    private const string AsyncSuffix = "Async";

    /// <summary>
    /// Default task name: the method name without a trailing "Async", kebab-cased
    /// (ProcessOrder → process-order, SendHTTPRequestAsync → send-http-request).
    /// </summary>
    public static string DefaultTaskName(string methodName)
    {
        var name = methodName.Length > AsyncSuffix.Length && methodName.EndsWith(AsyncSuffix, System.StringComparison.Ordinal)
            ? methodName.Substring(0, methodName.Length - AsyncSuffix.Length)
            : methodName;

        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var current = name[i];
            if (current == '_')
            {
                AppendDash(builder);
                continue;
            }
            if (char.IsUpper(current) && i > 0)
            {
                var previous = name[i - 1];
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                // A word starts at an upper-case letter after a lower-case letter or digit, or at the last
                // capital of an acronym that is followed by lower case ("HTTPRequest" → "http-request").
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && nextIsLower))
                    AppendDash(builder);
            }
            builder.Append(char.ToLowerInvariant(current));
        }
        return builder.ToString();
    }

    /// <summary>
    /// Why <paramref name="taskName"/> can never be a task name (rule 23), or null when it can: names are parts of
    /// Redis keys and of comma-joined lists, so they may not be blank nor hold ',' ':' a control character or a
    /// lone surrogate. The runtime refuses such names; the generator skips them and MAGE005 explains.
    /// </summary>
    public static string? TaskNameProblem(string? taskName)
    {
        if (taskName is null || taskName.Trim().Length == 0) return "it is blank";
        for (var i = 0; i < taskName.Length; i++)
        {
            var c = taskName[i];
            if (c == ',') return "it contains ','";
            if (c == ':') return "it contains ':'";
            if (char.IsControl(c)) return "it contains the control character U+" + ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
            if (char.IsHighSurrogate(c) && i + 1 < taskName.Length && char.IsLowSurrogate(taskName[i + 1])) i++;
            else if (char.IsSurrogate(c)) return "it contains a lone surrogate U+" + ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary>The runtime's wire name of a member: the fallback return member, else camelCase.</summary>
    public static string WireName(string memberName) =>
        memberName == FallbackReturnMember ? FallbackReturnField : CamelCase(memberName);

    /// <summary>
    /// Same result as System.Text.Json's camelCase policy: lower-case the leading run of capitals, except the
    /// last one when it starts the next word ("URLValue" → "urlValue").
    /// </summary>
    public static string CamelCase(string name)
    {
        if (name.Length == 0 || !char.IsUpper(name[0])) return name;

        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (i == 1 && !char.IsUpper(chars[i])) break;
            var hasNext = i + 1 < chars.Length;
            if (i > 0 && hasNext && !char.IsUpper(chars[i + 1]))
            {
                if (chars[i + 1] == ' ') chars[i] = char.ToLowerInvariant(chars[i]);
                break;
            }
            chars[i] = char.ToLowerInvariant(chars[i]);
        }
        return new string(chars);
    }

    private static void AppendDash(StringBuilder builder)
    {
        if (builder.Length > 0 && builder[builder.Length - 1] != '-') builder.Append('-');
    }
}
