using System.Linq;
using Microsoft.CodeAnalysis;

namespace MageFlow.Shared;

/// <summary>Message members as the runtime's serializer sees them: their JSON names and the ones it never reads.</summary>
internal static class WireMembers
{
    /// <summary>The member's JSON name: <c>[JsonPropertyName]</c> if present, else the runtime's naming policy.</summary>
    public static string WireName(ISymbol member) =>
        KnownTypes.FindAttribute(member, KnownTypes.Serialization, "JsonPropertyNameAttribute") is { ConstructorArguments: [{ Value: string explicitName }] }
            ? explicitName
            : MageNaming.WireName(member.Name);

    /// <summary>
    /// <c>[JsonIgnore]</c> (or <c>Condition = Always</c>): the serializer never reads the member. 1 is
    /// <c>JsonIgnoreCondition.Always</c>.
    /// </summary>
    public static bool IsAlwaysIgnored(ISymbol member) =>
        KnownTypes.FindAttribute(member, KnownTypes.Serialization, "JsonIgnoreAttribute") is { } ignore
        && (ignore.NamedArguments.Length == 0 || ignore.NamedArguments.Any(argument => argument.Key == "Condition" && argument.Value.Value is 1));
}
