using System.Linq;
using Microsoft.CodeAnalysis;

namespace MageFlow.Analyzers;

/// <summary>
/// Whether a value serialized as JSON from one type reads back into another, as System.Text.Json does it with
/// the runtime's options (nullable annotations respected). Deliberately strict where a read would fail or lose data.
/// </summary>
internal static class JsonTypeCompatibility
{
    /// <summary>Whether a member of type <paramref name="target"/> accepts a JSON <c>null</c> (a task that returns nothing).</summary>
    public static bool AcceptsNull(ITypeSymbol target, MageSymbols symbols)
    {
        if (MageSymbols.Is(target, symbols.JsonElement)) return true;
        if (target.IsValueType) return target.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;
        // the runtime reads with RespectNullableAnnotations: null into a non-nullable reference member fails
        return target.NullableAnnotation != NullableAnnotation.NotAnnotated;
    }

    public static bool CanHold(ITypeSymbol source, ITypeSymbol target, MageSymbols symbols)
    {
        if (target.SpecialType == SpecialType.System_Object || MageSymbols.Is(target, symbols.JsonElement) || IsJsonNode(target, symbols))
            return true;
        // a value whose shape is only known at run time, or code that does not compile yet: nothing to prove wrong
        if (IsOpaque(source, symbols) || IsOpaque(target, symbols))
            return true;

        var sourceValue = UnwrapNullable(source, out var sourceIsNullable);
        var targetValue = UnwrapNullable(target, out var targetIsNullable);
        if (sourceIsNullable && !targetIsNullable && targetValue.IsValueType)
            return false;
        if (targetIsNullable && MageSymbols.Is(targetValue, symbols.JsonElement))
            return true;

        if (SymbolEqualityComparer.Default.Equals(sourceValue, targetValue))
            return true;
        if (IsNumericWidening(sourceValue.SpecialType, targetValue.SpecialType))
            return true;

        if (DictionaryValue(targetValue, out var targetKey) is { } targetEntry && DictionaryValue(sourceValue, out var sourceKey) is { } sourceEntry)
        {
            // JSON objects: keys are strings on the wire, so only the values need to fit
            return SymbolEqualityComparer.Default.Equals(targetKey, sourceKey) && CanHold(sourceEntry, targetEntry, symbols)
                   && (targetValue.TypeKind == TypeKind.Interface || !((INamedTypeSymbol)targetValue).IsAbstract);
        }

        if (ElementTypeOfSequence(targetValue, symbols, isTarget: true) is { } targetElement)
        {
            return ElementTypeOfSequence(sourceValue, symbols, isTarget: false) is { } sourceElement
                   && CanHold(sourceElement, targetElement, symbols);
        }

        // inheritance and interfaces: the value is written with the source's members and read back into the target's
        var conversion = symbols.Compilation.ClassifyCommonConversion(sourceValue, targetValue);
        return conversion.IsIdentity || (conversion.IsImplicit && conversion.IsReference);
    }

    private static ITypeSymbol UnwrapNullable(ITypeSymbol type, out bool isNullableValueType)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T, TypeArguments: [var underlying] })
        {
            isNullableValueType = true;
            return underlying;
        }
        isNullableValueType = false;
        return type;
    }

    /// <summary>Numeric conversions that survive a JSON round trip (a number read into a type that holds every value of the source).</summary>
    private static bool IsNumericWidening(SpecialType source, SpecialType target) => source switch
    {
        SpecialType.System_SByte or SpecialType.System_Int16 =>
            target is SpecialType.System_Int16 or SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Decimal,
        SpecialType.System_Byte or SpecialType.System_UInt16 =>
            target is SpecialType.System_Int16 or SpecialType.System_UInt16 or SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64
                or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Decimal,
        SpecialType.System_Int32 => target is SpecialType.System_Int64 or SpecialType.System_Double or SpecialType.System_Decimal,
        SpecialType.System_UInt32 => target is SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Double or SpecialType.System_Decimal,
        SpecialType.System_Int64 or SpecialType.System_UInt64 => target is SpecialType.System_Double or SpecialType.System_Decimal,
        SpecialType.System_Single => target is SpecialType.System_Double,
        _ => false,
    } && source != target;

    /// <summary>
    /// The element type when the type is written or read as a JSON array: arrays and generic collections, never
    /// strings or dictionaries (those are JSON strings and objects). A target must be a collection the serializer can create.
    /// </summary>
    private static ITypeSymbol? ElementTypeOfSequence(ITypeSymbol type, MageSymbols symbols, bool isTarget)
    {
        if (type is IArrayTypeSymbol { Rank: 1 } array) return array.ElementType;
        if (type.SpecialType == SpecialType.System_String || type is not INamedTypeSymbol named) return null;
        if (IsDictionary(named)) return null;

        if (isTarget)
        {
            // interfaces the serializer fills with a List<T>, and concrete generic collections it can construct
            var isReadableInterface = named.TypeKind == TypeKind.Interface && named.TypeArguments.Length == 1 && named.OriginalDefinition.SpecialType is
                SpecialType.System_Collections_Generic_IEnumerable_T or SpecialType.System_Collections_Generic_IReadOnlyList_T
                or SpecialType.System_Collections_Generic_IReadOnlyCollection_T or SpecialType.System_Collections_Generic_IList_T
                or SpecialType.System_Collections_Generic_ICollection_T;
            var isConstructibleCollection = named.TypeKind == TypeKind.Class && !named.IsAbstract && named.TypeArguments.Length == 1
                                            && EnumerableElement(named) is not null;
            return isReadableInterface || isConstructibleCollection ? named.TypeArguments[0] : null;
        }
        return EnumerableElement(named);
    }

    private static ITypeSymbol? EnumerableElement(INamedTypeSymbol type)
    {
        if (type.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T) return type.TypeArguments[0];
        var enumerable = type.AllInterfaces.FirstOrDefault(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T);
        return enumerable?.TypeArguments[0];
    }

    private static bool IsDictionary(INamedTypeSymbol type) => DictionaryValue(type, out _) is not null;

    private static bool IsJsonNode(ITypeSymbol type, MageSymbols symbols) => MageSymbols.Is(type, symbols.JsonNode);

    private static bool IsOpaque(ITypeSymbol type, MageSymbols symbols) =>
        type.TypeKind is TypeKind.Error or TypeKind.Dynamic or TypeKind.TypeParameter
        || type.SpecialType == SpecialType.System_Object
        || MageSymbols.Is(type, symbols.JsonElement)
        || IsJsonNode(type, symbols);

    private static ITypeSymbol? DictionaryValue(ITypeSymbol type, out ITypeSymbol? key)
    {
        key = null;
        if (type is not INamedTypeSymbol named) return null;
        foreach (var candidate in named.AllInterfaces.Append(named))
        {
            if (candidate.TypeArguments.Length == 2 && candidate.OriginalDefinition.ToDisplayString() is
                    "System.Collections.Generic.IDictionary<TKey, TValue>" or "System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>")
            {
                key = candidate.TypeArguments[0];
                return candidate.TypeArguments[1];
            }
        }
        return null;
    }
}
