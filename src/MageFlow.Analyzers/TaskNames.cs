using System.Text;

namespace MageFlow.Analyzers;

/// <summary>The default task name of a method, as the generator and the runtime derive it.</summary>
internal static class TaskNames
{
    private const string AsyncSuffix = "Async";

    /// <summary><c>ProcessOrder</c> → <c>process-order</c>, <c>SendHTTPRequestAsync</c> → <c>send-http-request</c>.</summary>
    public static string FromMethodName(string methodName)
    {
        var name = methodName.Length > AsyncSuffix.Length && methodName.EndsWith(AsyncSuffix, System.StringComparison.Ordinal)
            ? methodName.Substring(0, methodName.Length - AsyncSuffix.Length)
            : methodName;

        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var current = name[i];
            if (current == '_')
            {
                AppendSeparator(builder);
                continue;
            }
            if (char.IsUpper(current) && i > 0)
            {
                var previous = name[i - 1];
                var next = i + 1 < name.Length ? name[i + 1] : '\0';
                // a word starts at lower→Upper ("sendHttp") and at the last capital of an acronym ("HTTPRequest")
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && char.IsLower(next)))
                    AppendSeparator(builder);
            }
            builder.Append(char.ToLowerInvariant(current));
        }
        return builder.ToString();
    }

    private static void AppendSeparator(StringBuilder builder)
    {
        if (builder.Length > 0 && builder[builder.Length - 1] != '-') builder.Append('-');
    }
}
