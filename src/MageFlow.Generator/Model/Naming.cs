using Microsoft.CodeAnalysis.CSharp;

namespace MageFlow.Generator.Model;

/// <summary>C# spelling helpers of the emitter; task and wire naming rules are in MageFlow.Shared.MageNaming.</summary>
internal static class Naming
{
    /// <summary>A C# string literal for <paramref name="value"/>, quotes included.</summary>
    public static string StringLiteral(string value) => SymbolDisplay.FormatLiteral(value, quote: true);
}
