using Microsoft.CodeAnalysis;

namespace MageFlow.Analyzers;

/// <summary>The MageFlow and BCL types the analyzers compare against, resolved once per compilation.</summary>
internal sealed class MageSymbols
{
    private MageSymbols(Compilation compilation, INamedTypeSymbol mageTask, INamedTypeSymbol returnValue)
    {
        Compilation = compilation;
        MageTaskAttribute = mageTask;
        ReturnValueAttribute = returnValue;
        GeneratedMageTaskAttribute = compilation.GetTypeByMetadataName("MageFlow.GeneratedMageTaskAttribute");
        NoMessage = compilation.GetTypeByMetadataName("MageFlow.NoMessage");
        MageFlowClient = compilation.GetTypeByMetadataName("MageFlow.IMageFlow");
        AmbientMage = compilation.GetTypeByMetadataName("MageFlow.Mage");
        SwarmSignature = compilation.GetTypeByMetadataName("MageFlow.SwarmSignature");
        SwarmSignatureOfT = compilation.GetTypeByMetadataName("MageFlow.SwarmSignature`1");
        SwarmResults = compilation.GetTypeByMetadataName("MageFlow.SwarmResults`1");
        JsonElement = compilation.GetTypeByMetadataName("System.Text.Json.JsonElement");
        JsonNode = compilation.GetTypeByMetadataName("System.Text.Json.Nodes.JsonNode");
        JsonRequiredAttribute = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonRequiredAttribute");
        JsonConstructorAttribute = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonConstructorAttribute");
    }

    public Compilation Compilation { get; }
    public INamedTypeSymbol MageTaskAttribute { get; }
    public INamedTypeSymbol ReturnValueAttribute { get; }
    public INamedTypeSymbol? GeneratedMageTaskAttribute { get; }
    public INamedTypeSymbol? NoMessage { get; }
    public INamedTypeSymbol? MageFlowClient { get; }
    public INamedTypeSymbol? AmbientMage { get; }
    public INamedTypeSymbol? SwarmSignature { get; }
    public INamedTypeSymbol? SwarmSignatureOfT { get; }
    public INamedTypeSymbol? SwarmResults { get; }
    public INamedTypeSymbol? JsonElement { get; }
    public INamedTypeSymbol? JsonNode { get; }
    public INamedTypeSymbol? JsonRequiredAttribute { get; }
    public INamedTypeSymbol? JsonConstructorAttribute { get; }

    /// <summary>Null when the compilation does not reference MageFlow: the analyzers then do nothing.</summary>
    public static MageSymbols? TryCreate(Compilation compilation)
    {
        var mageTask = compilation.GetTypeByMetadataName("MageFlow.MageTaskAttribute");
        var returnValue = compilation.GetTypeByMetadataName("MageFlow.ReturnValueAttribute");
        return mageTask is null || returnValue is null ? null : new MageSymbols(compilation, mageTask, returnValue);
    }

    public static bool Is(ITypeSymbol? type, INamedTypeSymbol? expected) =>
        type is not null && expected is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, expected);

    public static bool HasAttribute(ISymbol symbol, INamedTypeSymbol? attribute) => FindAttribute(symbol, attribute) is not null;

    public static AttributeData? FindAttribute(ISymbol symbol, INamedTypeSymbol? attribute)
    {
        if (attribute is null) return null;
        foreach (var data in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute)) return data;
        }
        return null;
    }
}
