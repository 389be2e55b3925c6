using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace MageFlow.Generator.Model;

/// <summary>Name conversions shared by the model builder; each mirrors a rule of the runtime or of C#.</summary>
internal static class Naming
{
    private const string AsyncSuffix = "Async";

    /// <summary>
    /// Default task name: the method name without a trailing "Async", kebab-cased
    /// (ProcessOrder → process-order, SendHTTPRequest → send-http-request).
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
                {
                    AppendDash(builder);
                }
            }
            builder.Append(char.ToLowerInvariant(current));
        }
        return builder.ToString();
    }

    private static void AppendDash(StringBuilder builder)
    {
        if (builder.Length > 0 && builder[builder.Length - 1] != '-') builder.Append('-');
    }

    /// <summary>The runtime's wire name of a member (MageJson.WireName): the fallback member, else camelCase.</summary>
    public static string WireName(string memberName) =>
        memberName == "MageflowResults" ? "mageflow_results" : CamelCase(memberName);

    /// <summary>
    /// Same result as System.Text.Json's camelCase policy, which the runtime's wire format uses: lower-case the
    /// leading run of capitals, except the last one when it starts the next word ("URLValue" → "urlValue").
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

    /// <summary>Prefixes <c>@</c> when <paramref name="identifier"/> is a reserved C# keyword.</summary>
    public static string EscapeIdentifier(string identifier) =>
        SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None ? "@" + identifier : identifier;

    /// <summary>A C# string literal for <paramref name="value"/>, quotes included.</summary>
    public static string StringLiteral(string value) => SymbolDisplay.FormatLiteral(value, quote: true);
}
