using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace MageFlow.Shared;

/// <summary>
/// Turns a <c>[MageTask]</c> method that <see cref="TaskClassifier"/> found valid into the <see cref="TaskModel"/>
/// its builder is emitted from: plain strings, no symbols.
/// </summary>
internal static class TaskModelBuilder
{
    private const string NoMessageType = "global::MageFlow.NoMessage";

    /// <summary>Parameter and local names of the generated methods: a message member may not take them.</summary>
    private static readonly HashSet<string> ReservedParameterNames = ["mage", "successCallbacks", "errorCallbacks", "cancellationToken", "kwargs", "core"];

    /// <summary>Type arguments keep nullable annotations so the handler's delegate type matches the method exactly.</summary>
    private static readonly SymbolDisplayFormat TypeArgumentFormat =
        SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary><c>typeof(T?)</c> is an error for reference types, so typeof arguments drop annotations.</summary>
    private static readonly SymbolDisplayFormat TypeOfFormat = SymbolDisplayFormat.FullyQualifiedFormat;

    /// <summary>A namespace as written after <c>namespace</c>: keywords escaped, no <c>global::</c>.</summary>
    private static readonly SymbolDisplayFormat NamespaceFormat =
        SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

    public static TaskModel Build(IMethodSymbol method, AttributeData mageTask, CancellationToken cancellationToken)
    {
        var declaringType = method.ContainingType;
        var arguments = method.Parameters.Select(TaskClassifier.ArgumentKindOf).ToEquatableArray();
        var messageType = method.Parameters.FirstOrDefault(parameter => TaskClassifier.ArgumentKindOf(parameter) == ArgumentKind.Message)?.Type;
        var (shape, resultType) = TaskClassifier.ReadReturn(method);

        var returnField = messageType is null ? MageNaming.FallbackReturnField : FindReturnField(messageType, cancellationToken);
        var kwargs = messageType is null
            ? EquatableArray<KwargModel>.Empty
            : CollectKwargs(messageType, returnField, cancellationToken);

        var @namespace = declaringType.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString(NamespaceFormat) : string.Empty;
        var builderName = EscapeIdentifier(method.Name);
        var builderFullName = @namespace.Length == 0 ? "global::" + builderName : "global::" + @namespace + "." + builderName;
        var isPublic = IsEffectivelyPublic(method) && (messageType is null || IsPublicType(messageType));

        return new TaskModel(
            HintName: HintName(method, declaringType),
            Namespace: @namespace,
            BuilderName: builderName,
            BuilderFullName: builderFullName,
            IsPublic: isPublic,
            TaskName: TaskClassifier.TaskName(method, mageTask),
            MessageType: messageType is null ? NoMessageType : messageType.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeArgumentFormat),
            MessageTypeOf: messageType is null ? NoMessageType : messageType.ToDisplayString(TypeOfFormat),
            ResultType: resultType?.ToDisplayString(TypeArgumentFormat),
            ResultTypeOf: resultType?.ToDisplayString(TypeOfFormat),
            ReturnShape: shape,
            DeclaringType: declaringType.ToDisplayString(TypeOfFormat),
            MethodName: EscapeIdentifier(method.Name),
            IsInstance: !method.IsStatic,
            Arguments: arguments,
            Retries: Setting(mageTask, "Retries"),
            TimeoutSeconds: Setting(mageTask, "TimeoutSeconds"),
            RetryDelayMilliseconds: Setting(mageTask, "RetryDelayMilliseconds"),
            ReturnField: returnField,
            Kwargs: kwargs);
    }

    /// <summary>Prefixes <c>@</c> when <paramref name="identifier"/> is a reserved C# keyword.</summary>
    private static string EscapeIdentifier(string identifier) =>
        SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None ? "@" + identifier : identifier;

    /// <summary>A named int setting of the attribute; 0 (the runtime's default) when not set.</summary>
    private static int Setting(AttributeData mageTask, string name) =>
        mageTask.NamedArguments.FirstOrDefault(argument => argument.Key == name).Value.Value is int value ? value : 0;

    private static bool IsEffectivelyPublic(ISymbol symbol)
    {
        for (var current = symbol; current is not null and not INamespaceSymbol; current = current.ContainingSymbol)
        {
            if (current.DeclaredAccessibility != Accessibility.Public) return false;
        }
        return true;
    }

    private static bool IsPublicType(ITypeSymbol type) => type switch
    {
        IArrayTypeSymbol array => IsPublicType(array.ElementType),
        INamedTypeSymbol named => IsEffectivelyPublic(named) && named.TypeArguments.All(IsPublicType),
        _ => true,
    };

    /// <summary>
    /// Wire name of the message's <c>[ReturnValue]</c> member (property, field, or positional record parameter,
    /// base types included), else the fallback <c>mageflow_results</c>.
    /// </summary>
    private static string FindReturnField(ITypeSymbol messageType, CancellationToken cancellationToken)
    {
        foreach (var type in HierarchyBaseFirst(messageType))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var member in type.GetMembers())
            {
                if (member is IPropertySymbol { IsStatic: false, IsIndexer: false } or IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false }
                    && KnownTypes.HasAttribute(member, KnownTypes.MageFlow, "ReturnValueAttribute"))
                {
                    return WireMembers.WireName(member);
                }
            }

            // [ReturnValue] without a "property:" target stays on a positional record (or constructor) parameter;
            // the property of the same name is the member that receives the value.
            foreach (var constructor in type.InstanceConstructors)
            {
                foreach (var parameter in constructor.Parameters)
                {
                    if (!KnownTypes.HasAttribute(parameter, KnownTypes.MageFlow, "ReturnValueAttribute")) continue;
                    var property = FindProperty(messageType, parameter.Name);
                    if (property is not null) return WireMembers.WireName(property);
                }
            }
        }
        return MageNaming.FallbackReturnField;
    }

    private static IPropertySymbol? FindProperty(ITypeSymbol type, string name)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers(name))
            {
                if (member is IPropertySymbol { IsStatic: false, IsIndexer: false } property) return property;
            }
        }
        return null;
    }

    /// <summary>
    /// Settable members in declaration order, base types first (members the serializer ignores left out): public instance properties with a public
    /// setter or init accessor, and public writable instance fields. A member redeclared in a derived type keeps
    /// its base position and takes the derived declaration.
    /// </summary>
    private static EquatableArray<KwargModel> CollectKwargs(ITypeSymbol messageType, string returnField, CancellationToken cancellationToken)
    {
        var order = new List<string>();
        var byName = new Dictionary<string, ISymbol>(System.StringComparer.Ordinal);
        foreach (var type in HierarchyBaseFirst(messageType))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var member in type.GetMembers())
            {
                if (member is not (IPropertySymbol { IsStatic: false, IsIndexer: false } or IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false, IsConst: false }))
                {
                    continue;
                }
                if (!byName.ContainsKey(member.Name)) order.Add(member.Name);
                byName[member.Name] = member;
            }
        }

        var usedNames = new HashSet<string>(ReservedParameterNames, System.StringComparer.Ordinal);
        var kwargs = new List<KwargModel>();
        foreach (var name in order)
        {
            var member = byName[name];
            var memberType = member switch
            {
                IPropertySymbol property when IsSettable(property) => property.Type,
                IFieldSymbol { DeclaredAccessibility: Accessibility.Public, IsReadOnly: false } field => field.Type,
                _ => null,
            };
            if (memberType is null || !TaskClassifier.CanTravelAsJson(memberType) || TaskClassifier.IsUnresolved(memberType) || WireMembers.IsAlwaysIgnored(member)) continue;

            var wireName = WireMembers.WireName(member);
            // Binding the return member would override the injected result (bound kwargs win), so it is not offered.
            if (wireName == returnField) continue;

            var parameterName = MageNaming.CamelCase(member.Name);
            while (!usedNames.Add(parameterName)) parameterName += "_";
            kwargs.Add(new KwargModel(EscapeIdentifier(parameterName), wireName, memberType.ToDisplayString(TypeArgumentFormat)));
        }
        return kwargs.ToEquatableArray();
    }

    private static bool IsSettable(IPropertySymbol property)
    {
        if (property.DeclaredAccessibility != Accessibility.Public || property.Name == "EqualityContract") return false;
        // An override may declare only a getter and still inherit a public setter.
        for (var current = property; current is not null; current = current.OverriddenProperty)
        {
            if (current.SetMethod is { } setter) return setter.DeclaredAccessibility == Accessibility.Public;
        }
        return false;
    }

    private static List<INamedTypeSymbol> HierarchyBaseFirst(ITypeSymbol type)
    {
        var hierarchy = new List<INamedTypeSymbol>();
        for (var current = type as INamedTypeSymbol; current is not null; current = current.BaseType)
        {
            if (current.SpecialType is SpecialType.System_Object or SpecialType.System_ValueType) break;
            hierarchy.Add(current);
        }
        hierarchy.Reverse();
        return hierarchy;
    }

    /// <summary>
    /// "MageFlow." + the containing type's metadata name (nested types joined by '+') + the method name: unique,
    /// because only the first <c>[MageTask]</c> overload of a name is emitted.
    /// </summary>
    private static string HintName(IMethodSymbol method, INamedTypeSymbol declaringType)
    {
        var typeNames = new List<string>();
        for (var type = declaringType; type is not null; type = type.ContainingType) typeNames.Add(type.MetadataName);
        typeNames.Reverse();

        // Raw names: display strings escape keywords with '@', which hint names may not contain.
        var namespaceNames = new List<string>();
        for (var ns = declaringType.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace) namespaceNames.Add(ns.Name);
        namespaceNames.Reverse();

        var builder = new StringBuilder("MageFlow.");
        foreach (var name in namespaceNames) builder.Append(name).Append('.');
        builder.Append(string.Join("+", typeNames)).Append('.').Append(method.Name);

        // Roslyn compares hint names ignoring case, and a clash drops every generated file; names that differ
        // from a sibling only in case get a suffix computed from their exact spelling.
        if (HasCaseTwin(method)) builder.Append('-').Append(StableHash(builder.ToString()).ToString("x8", System.Globalization.CultureInfo.InvariantCulture));

        return builder.Append(".g.cs").ToString();
    }

    private static bool HasCaseTwin(IMethodSymbol method)
    {
        foreach (var member in method.ContainingType.GetMembers())
        {
            if (IsCaseTwin(member.Name, method.Name) && KnownTypes.IsMageTask(member)) return true;
        }
        for (ISymbol current = method.ContainingType; current.ContainingSymbol is INamespaceOrTypeSymbol container; current = container)
        {
            foreach (var sibling in container.GetMembers())
            {
                if (sibling is INamespaceOrTypeSymbol && IsCaseTwin(sibling.Name, current.Name) && !KnownTypes.IsGeneratedBuilder(sibling, method.ContainingAssembly)) return true;
            }
        }
        return false;
    }

    private static bool IsCaseTwin(string left, string right) =>
        !string.Equals(left, right, System.StringComparison.Ordinal) && string.Equals(left, right, System.StringComparison.OrdinalIgnoreCase);

    /// <summary>FNV-1a: stable across processes, unlike string.GetHashCode.</summary>
    private static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }
        return hash;
    }
}
