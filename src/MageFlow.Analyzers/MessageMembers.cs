using System;
using System.Collections.Generic;
using System.Linq;
using MageFlow.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MageFlow.Analyzers;

/// <summary>A member of a message type as it appears on the wire.</summary>
internal readonly record struct MessageMember(ISymbol Symbol, ITypeSymbol Type, string WireName);

/// <summary>A member marked <c>[ReturnValue]</c>, with the attribute that marks it (on the member or on its positional parameter).</summary>
internal readonly record struct ReturnValueMember(ISymbol Symbol, ITypeSymbol Type, AttributeData Attribute);

/// <summary>Reads message types the way the runtime's serializer sees them (public members, camelCase wire names).</summary>
internal static class MessageMembers
{

    /// <summary>
    /// Every <c>[ReturnValue]</c> member of <paramref name="type"/> and its base types, base types first, each type's
    /// members in source order. An override of a marked member counts once.
    /// </summary>
    public static List<ReturnValueMember> ReturnValueMembers(INamedTypeSymbol type, MageSymbols symbols)
    {
        var found = new List<ReturnValueMember>();
        foreach (var declaringType in BaseTypesFirst(type))
        {
            var declared = new List<ReturnValueMember>();
            foreach (var member in declaringType.GetMembers())
            {
                if (member.IsStatic || member is not (IPropertySymbol or IFieldSymbol)) continue;
                if (MageSymbols.FindAttribute(member, symbols.ReturnValueAttribute) is { } attribute && !OverridesAny(member, found))
                    declared.Add(new ReturnValueMember(member, MemberType(member), attribute));
            }

            // [ReturnValue] without a target on a positional record parameter stays on the parameter
            foreach (var constructor in declaringType.InstanceConstructors)
            {
                foreach (var parameter in constructor.Parameters)
                {
                    if (MageSymbols.FindAttribute(parameter, symbols.ReturnValueAttribute) is not { } attribute) continue;
                    if (PropertyOfParameter(declaringType, parameter) is not { } property) continue;
                    if (declared.Any(d => SymbolEqualityComparer.Default.Equals(d.Symbol, property))) continue;
                    declared.Add(new ReturnValueMember(property, property.Type, attribute));
                }
            }

            found.AddRange(declared.OrderBy(d => AttributeOrder(d.Attribute)));
        }
        return found;
    }

    /// <summary>The member a success callback's return value is written to: the [ReturnValue] one, else MageflowResults.</summary>
    public static MessageMember? ReceivingMember(INamedTypeSymbol messageType, MageSymbols symbols)
    {
        var marked = ReturnValueMembers(messageType, symbols);
        if (marked.Count > 0)
            return new MessageMember(marked[0].Symbol, marked[0].Type, WireMembers.WireName(marked[0].Symbol));

        foreach (var member in SerializedMembers(messageType, symbols))
        {
            if (string.Equals(member.WireName, MageNaming.FallbackReturnField, StringComparison.OrdinalIgnoreCase)) return member;
        }
        return null;
    }

    /// <summary>The public instance properties and fields the serializer reads and writes, most derived first.</summary>
    public static List<MessageMember> SerializedMembers(INamedTypeSymbol type, MageSymbols symbols)
    {
        var members = new List<MessageMember>();
        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        for (INamedTypeSymbol? current = type; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                if (member.IsStatic || member.DeclaredAccessibility != Accessibility.Public) continue;
                if (member is IPropertySymbol { IsIndexer: true } || member is IPropertySymbol { GetMethod: null }) continue;
                if (member is not (IPropertySymbol or IFieldSymbol) || member.IsImplicitlyDeclared && member is IFieldSymbol) continue;
                if (member.Name == "EqualityContract") continue;
                if (WireMembers.IsAlwaysIgnored(member) || !seenNames.Add(member.Name)) continue;
                members.Add(new MessageMember(member, MemberType(member), WireMembers.WireName(member)));
            }
        }
        return members;
    }

    /// <summary>
    /// Members deserialization cannot do without: parameters of the constructor the serializer uses that have no
    /// default value, <c>required</c> members, and <c>[JsonRequired]</c> members.
    /// </summary>
    public static List<MessageMember> RequiredMembers(INamedTypeSymbol type, MageSymbols symbols)
    {
        var serialized = SerializedMembers(type, symbols);
        var required = new List<MessageMember>();

        if (DeserializationConstructor(type, symbols) is { } constructor)
        {
            foreach (var parameter in constructor.Parameters)
            {
                if (parameter.HasExplicitDefaultValue || parameter.IsParams) continue;
                var member = serialized.FirstOrDefault(m => string.Equals(m.Symbol.Name, parameter.Name, StringComparison.OrdinalIgnoreCase));
                required.Add(member.Symbol is not null
                    ? member
                    : new MessageMember(parameter, parameter.Type, MageNaming.WireName(parameter.Name)));
            }
        }

        foreach (var member in serialized)
        {
            var isRequired = member.Symbol is IPropertySymbol { IsRequired: true } or IFieldSymbol { IsRequired: true }
                             || MageSymbols.HasAttribute(member.Symbol, symbols.JsonRequiredAttribute);
            if (isRequired && !required.Any(r => SymbolEqualityComparer.Default.Equals(r.Symbol, member.Symbol)))
                required.Add(member);
        }
        return required;
    }

    public static ITypeSymbol MemberType(ISymbol member) => member switch
    {
        IPropertySymbol property => property.Type,
        IFieldSymbol field => field.Type,
        IParameterSymbol parameter => parameter.Type,
        _ => throw new ArgumentException("Not a data member: " + member, nameof(member)),
    };

    /// <summary>The record property a positional parameter becomes.</summary>
    public static IPropertySymbol? PropertyOfParameter(INamedTypeSymbol type, IParameterSymbol parameter) =>
        type.GetMembers(parameter.Name).OfType<IPropertySymbol>().FirstOrDefault();

    /// <summary>The constructor System.Text.Json uses: [JsonConstructor], else none when a public parameterless one exists, else the single public one.</summary>
    private static IMethodSymbol? DeserializationConstructor(INamedTypeSymbol type, MageSymbols symbols)
    {
        var candidates = type.InstanceConstructors.Where(c => !IsCopyConstructor(c, type)).ToList();
        var marked = candidates.FirstOrDefault(c => MageSymbols.HasAttribute(c, symbols.JsonConstructorAttribute));
        if (marked is not null) return marked;

        var publicConstructors = candidates.Where(c => c.DeclaredAccessibility == Accessibility.Public).ToList();
        if (publicConstructors.Any(c => c.Parameters.Length == 0)) return null;
        return publicConstructors.Count == 1 ? publicConstructors[0] : null;
    }

    private static bool IsCopyConstructor(IMethodSymbol constructor, INamedTypeSymbol type) =>
        constructor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(constructor.Parameters[0].Type, type);

    private static bool OverridesAny(ISymbol member, List<ReturnValueMember> found)
    {
        for (var overridden = Overridden(member); overridden is not null; overridden = Overridden(overridden))
        {
            if (found.Any(f => SymbolEqualityComparer.Default.Equals(f.Symbol, overridden))) return true;
        }
        return false;
    }

    private static ISymbol? Overridden(ISymbol member) => (member as IPropertySymbol)?.OverriddenProperty;

    private static IEnumerable<INamedTypeSymbol> BaseTypesFirst(INamedTypeSymbol type)
    {
        var chain = new List<INamedTypeSymbol>();
        for (INamedTypeSymbol? current = type; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
            chain.Add(current);
        chain.Reverse();
        return chain;
    }

    private static (string, int) AttributeOrder(AttributeData attribute) =>
        attribute.ApplicationSyntaxReference is { } reference
            ? (reference.SyntaxTree.FilePath ?? "", reference.Span.Start)
            : ("", 0);

    /// <summary>The <c>[ReturnValue]</c> syntax a user would delete, or null for metadata.</summary>
    public static AttributeSyntax? AttributeSyntaxOf(AttributeData attribute, System.Threading.CancellationToken cancellationToken) =>
        attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
}
