using System.Linq;
using Microsoft.CodeAnalysis;

namespace MageFlow.Shared;

/// <summary>
/// Recognises MageFlow, BCL and System.Text.Json types by their names, so the shared rules need no per-compilation
/// symbol lookup (the generator has no compilation-wide state to hold one).
/// </summary>
internal static class KnownTypes
{
    public const string MageFlow = "MageFlow";
    public const string Tasks = "System.Threading.Tasks";
    public const string Serialization = "System.Text.Json.Serialization";

    /// <summary>A top-level type <paramref name="name"/> of arity <paramref name="arity"/> in <paramref name="namespace"/>, constructed or not.</summary>
    public static bool Is(ITypeSymbol type, string @namespace, string name, int arity = 0) =>
        type is INamedTypeSymbol named
        && named.Name == name
        && named.Arity == arity
        && named.ContainingType is null
        && named.ContainingNamespace?.ToDisplayString() == @namespace;

    public static AttributeData? FindAttribute(ISymbol symbol, string @namespace, string name) =>
        symbol.GetAttributes().FirstOrDefault(a => a.AttributeClass is { } attributeClass && Is(attributeClass, @namespace, name));

    public static bool HasAttribute(ISymbol symbol, string @namespace, string name) => FindAttribute(symbol, @namespace, name) is not null;

    public static bool IsMageTask(ISymbol symbol) => symbol is IMethodSymbol && HasAttribute(symbol, MageFlow, "MageTaskAttribute");

    /// <summary>
    /// A builder the generator made in <paramref name="assembly"/>: analyzers see these in the compilation, the
    /// generator never does, so the rules skip them to read the same program on both sides.
    /// </summary>
    public static bool IsGeneratedBuilder(ISymbol symbol, IAssemblySymbol assembly) =>
        symbol is INamedTypeSymbol
        && SymbolEqualityComparer.Default.Equals(symbol.ContainingAssembly, assembly)
        && HasAttribute(symbol, MageFlow, "GeneratedMageTaskAttribute");
}
