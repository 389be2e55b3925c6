using MageFlow.Shared;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace MageFlow.Generator.Model;

/// <summary>
/// Turns one <c>[MageTask]</c> method into a <see cref="TaskModel"/>, or null when the method has a shape the
/// generator cannot bind (the analyzers report why; the generator stays silent and emits nothing for it).
/// </summary>
internal static class TaskModelBuilder
{
    private const string NoMessageType = "global::MageFlow.NoMessage";

    /// <summary>Names the builder class declares itself: a method of one of these names would clash with them.</summary>
    private static readonly HashSet<string> BuilderMemberNames = ["TaskName", "Descriptor", "AsignAsync", "Signature", "KwargsBinder"];

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

    public static TaskModel? Build(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0) return null;
        if (method.MethodKind != MethodKind.Ordinary || method.IsGenericMethod) return null;
        if (BuilderMemberNames.Contains(method.Name)) return null;

        var declaringType = method.ContainingType;
        if (!IsCallableFromGeneratedCode(method) || !IsValidDeclaringType(method, declaringType)) return null;
        if (!IsFirstTaskNamed(method, declaringType) || IsBuilderNameTaken(method.Name, declaringType.ContainingNamespace)) return null;

        var settings = ReadAttribute(context.Attributes[0], method.Name);
        if (settings is null) return null;

        if (!TryReadParameters(method, out var messageType, out var arguments)) return null;
        if (!TryReadReturn(method, out var shape, out var resultType)) return null;

        cancellationToken.ThrowIfCancellationRequested();

        var returnField = messageType is null ? MageNaming.FallbackReturnField : FindReturnField(messageType, cancellationToken);
        var kwargs = messageType is null
            ? EquatableArray<KwargModel>.Empty
            : CollectKwargs(messageType, returnField, cancellationToken);

        var @namespace = declaringType.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString(NamespaceFormat) : string.Empty;
        var builderName = Naming.EscapeIdentifier(method.Name);
        var builderFullName = @namespace.Length == 0 ? "global::" + builderName : "global::" + @namespace + "." + builderName;
        var isPublic = IsEffectivelyPublic(method) && (messageType is null || IsPublicType(messageType));

        return new TaskModel(
            HintName: HintName(method, declaringType),
            Namespace: @namespace,
            BuilderName: builderName,
            BuilderFullName: builderFullName,
            IsPublic: isPublic,
            TaskName: settings.Value.TaskName,
            MessageType: messageType is null ? NoMessageType : messageType.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeArgumentFormat),
            MessageTypeOf: messageType is null ? NoMessageType : messageType.ToDisplayString(TypeOfFormat),
            ResultType: resultType?.ToDisplayString(TypeArgumentFormat),
            ResultTypeOf: resultType?.ToDisplayString(TypeOfFormat),
            ReturnShape: shape,
            DeclaringType: declaringType.ToDisplayString(TypeOfFormat),
            MethodName: Naming.EscapeIdentifier(method.Name),
            IsInstance: !method.IsStatic,
            Arguments: arguments.ToEquatableArray(),
            Retries: settings.Value.Retries,
            TimeoutSeconds: settings.Value.TimeoutSeconds,
            RetryDelayMilliseconds: settings.Value.RetryDelayMilliseconds,
            ReturnField: returnField,
            Kwargs: kwargs);
    }

    private readonly record struct TaskSettings(string TaskName, int Retries, int TimeoutSeconds, int RetryDelayMilliseconds);

    /// <summary>Reads the attribute; values the runtime would reject at start-up make the method invalid.</summary>
    private static TaskSettings? ReadAttribute(AttributeData attribute, string methodName)
    {
        // An empty explicit name means the default, as the analyzers read it.
        var taskName = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string { Length: > 0 } explicitName
            ? explicitName
            : MageNaming.DefaultTaskName(methodName);
        int retries = 0, timeoutSeconds = 0, retryDelayMilliseconds = 0;
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Value.Value is not int value) continue;
            switch (argument.Key)
            {
                case "Retries": retries = value; break;
                case "TimeoutSeconds": timeoutSeconds = value; break;
                case "RetryDelayMilliseconds": retryDelayMilliseconds = value; break;
            }
        }

        // TaskDescriptor throws for these, and it would throw from the module initializer, killing the process.
        if (MageNaming.TaskNameProblem(taskName) is not null) return null;
        if (retries < 0 || timeoutSeconds < 0 || retryDelayMilliseconds < 0) return null;
        return new TaskSettings(taskName, retries, timeoutSeconds, retryDelayMilliseconds);
    }

    /// <summary>The generated builder lives in another type of the same assembly: the method must be reachable from it.</summary>
    private static bool IsCallableFromGeneratedCode(IMethodSymbol method)
    {
        if (!IsAssemblyVisible(method.DeclaredAccessibility)) return false;
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            if (!IsAssemblyVisible(type.DeclaredAccessibility) || type.IsFileLocal || type.IsGenericType) return false;
        }
        return true;
    }

    /// <summary>
    /// Two <c>[MageTask]</c> overloads would both become a class of the same name; only the first (in declaration
    /// order) is emitted, the analyzers report the other.
    /// </summary>
    private static bool IsFirstTaskNamed(IMethodSymbol method, INamedTypeSymbol declaringType)
    {
        foreach (var member in declaringType.GetMembers(method.Name))
        {
            if (member is IMethodSymbol candidate && HasAttribute(candidate, "MageFlow", "MageTaskAttribute"))
                return SymbolEqualityComparer.Default.Equals(candidate, method);
        }
        return true;
    }

    /// <summary>A type or namespace of the builder's name already exists where the builder would go.</summary>
    private static bool IsBuilderNameTaken(string builderName, INamespaceSymbol @namespace)
    {
        foreach (var member in @namespace.GetMembers(builderName))
        {
            if (member is INamespaceSymbol or INamedTypeSymbol { Arity: 0 }) return true;
        }
        return false;
    }

    private static bool IsAssemblyVisible(Accessibility accessibility) =>
        accessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;

    private static bool IsValidDeclaringType(IMethodSymbol method, INamedTypeSymbol declaringType)
    {
        // Static virtual/abstract interface members can only be called through a type parameter.
        if (method.IsStatic) return declaringType.TypeKind is TypeKind.Class or TypeKind.Struct or TypeKind.Interface && !method.IsAbstract && !method.IsVirtual;
        // Instance tasks are resolved from DI, which needs a concrete class.
        return declaringType.TypeKind == TypeKind.Class && !declaringType.IsStatic && !declaringType.IsAbstract && !method.IsAbstract;
    }

    private static bool TryReadParameters(IMethodSymbol method, out ITypeSymbol? messageType, out List<ArgumentKind> arguments)
    {
        messageType = null;
        arguments = new List<ArgumentKind>(method.Parameters.Length);
        foreach (var parameter in method.Parameters)
        {
            if (parameter.RefKind != RefKind.None || parameter.IsParams) return false;
            ArgumentKind kind;
            if (IsNamed(parameter.Type, "System.Threading", "CancellationToken", 0)) kind = ArgumentKind.CancellationToken;
            else if (IsNamed(parameter.Type, "MageFlow", "TaskContext", 0)) kind = ArgumentKind.Context;
            else
            {
                if (messageType is not null || !IsSerializableType(parameter.Type)) return false;
                messageType = parameter.Type;
                kind = ArgumentKind.Message;
            }
            if (arguments.Contains(kind)) return false;
            arguments.Add(kind);
        }
        return true;
    }

    private static bool TryReadReturn(IMethodSymbol method, out ReturnShape shape, out ITypeSymbol? resultType)
    {
        shape = ReturnShape.Void;
        resultType = null;
        if (method.ReturnsByRef || method.ReturnsByRefReadonly) return false;

        var returnType = method.ReturnType;
        if (returnType.SpecialType == SpecialType.System_Void) return true;

        if (IsNamed(returnType, "System.Threading.Tasks", "Task", 0)) shape = ReturnShape.Task;
        else if (IsNamed(returnType, "System.Threading.Tasks", "ValueTask", 0)) shape = ReturnShape.ValueTask;
        else if (IsNamed(returnType, "System.Threading.Tasks", "Task", 1))
        {
            shape = ReturnShape.TaskOfResult;
            resultType = ((INamedTypeSymbol)returnType).TypeArguments[0];
        }
        else if (IsNamed(returnType, "System.Threading.Tasks", "ValueTask", 1))
        {
            shape = ReturnShape.ValueTaskOfResult;
            resultType = ((INamedTypeSymbol)returnType).TypeArguments[0];
        }
        else
        {
            shape = ReturnShape.Value;
            resultType = returnType;
        }
        return resultType is null || (IsSerializableType(resultType) && !IsAwaitableOrStream(resultType));
    }

    /// <summary>
    /// A result that is itself a task (Task&lt;Task&gt;, a custom task-like type) or an async stream would be
    /// serialized instead of awaited, so such methods are not bound.
    /// </summary>
    private static bool IsAwaitableOrStream(ITypeSymbol type)
    {
        if (IsNamed(type, "System.Collections.Generic", "IAsyncEnumerable", 1)) return true;
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (IsNamed(current, "System.Threading.Tasks", "Task", 0) || IsNamed(current, "System.Threading.Tasks", "Task", 1)
                || IsNamed(current, "System.Threading.Tasks", "ValueTask", 0) || IsNamed(current, "System.Threading.Tasks", "ValueTask", 1))
            {
                return true;
            }
        }
        return type.GetAttributes().Any(a => a.AttributeClass is { Name: "AsyncMethodBuilderAttribute" });
    }

    /// <summary>Whether a type can be a generic argument and a <c>typeof</c> operand in the generated code.</summary>
    private static bool IsSerializableType(ITypeSymbol type) =>
        type.TypeKind is not (TypeKind.Error or TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.TypeParameter or TypeKind.Dynamic)
        && !type.IsRefLikeType
        && type.SpecialType != SpecialType.System_Void
        && (type is not IArrayTypeSymbol array || IsSerializableType(array.ElementType))
        && (type is not INamedTypeSymbol named || named.TypeArguments.All(IsSerializableType));

    private static bool IsNamed(ITypeSymbol type, string @namespace, string name, int arity) =>
        type is INamedTypeSymbol named
        && named.Name == name
        && named.Arity == arity
        && named.ContainingType is null
        && named.ContainingNamespace?.ToDisplayString() == @namespace;

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
                    && HasAttribute(member, "MageFlow", "ReturnValueAttribute"))
                {
                    return WireName(member);
                }
            }

            // [ReturnValue] without a "property:" target stays on a positional record (or constructor) parameter;
            // the property of the same name is the member that receives the value.
            foreach (var constructor in type.InstanceConstructors)
            {
                foreach (var parameter in constructor.Parameters)
                {
                    if (!HasAttribute(parameter, "MageFlow", "ReturnValueAttribute")) continue;
                    var property = FindProperty(messageType, parameter.Name);
                    if (property is not null) return WireName(property);
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
            if (memberType is null || !IsSerializableType(memberType) || IsAlwaysIgnored(member)) continue;

            var wireName = WireName(member);
            // Binding the return member would override the injected result (bound kwargs win), so it is not offered.
            if (wireName == returnField) continue;

            var parameterName = MageNaming.CamelCase(member.Name);
            while (!usedNames.Add(parameterName)) parameterName += "_";
            kwargs.Add(new KwargModel(Naming.EscapeIdentifier(parameterName), wireName, memberType.ToDisplayString(TypeArgumentFormat)));
        }
        return kwargs.ToEquatableArray();
    }

    /// <summary>
    /// <c>[JsonIgnore]</c> (or <c>Condition = Always</c>): the serializer never reads the member, so binding it
    /// would be silently lost. 1 is <c>JsonIgnoreCondition.Always</c>.
    /// </summary>
    private static bool IsAlwaysIgnored(ISymbol member) =>
        member.GetAttributes().Any(a =>
            a.AttributeClass is { } attributeClass
            && IsNamed(attributeClass, "System.Text.Json.Serialization", "JsonIgnoreAttribute", 0)
            && (a.NamedArguments.Length == 0 || a.NamedArguments.Any(n => n.Key == "Condition" && n.Value.Value is 1)));

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

    /// <summary>The member's JSON name: <c>[JsonPropertyName]</c> if present, else the runtime's naming policy.</summary>
    private static string WireName(ISymbol member)
    {
        foreach (var attribute in member.GetAttributes())
        {
            if (attribute.AttributeClass is { } attributeClass
                && IsNamed(attributeClass, "System.Text.Json.Serialization", "JsonPropertyNameAttribute", 0)
                && attribute.ConstructorArguments.Length == 1
                && attribute.ConstructorArguments[0].Value is string name)
            {
                return name;
            }
        }
        return MageNaming.WireName(member.Name);
    }

    private static bool HasAttribute(ISymbol symbol, string @namespace, string name) =>
        symbol.GetAttributes().Any(a => a.AttributeClass is { } attributeClass && IsNamed(attributeClass, @namespace, name, 0));

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
            if (member is IMethodSymbol && IsCaseTwin(member.Name, method.Name) && HasAttribute(member, "MageFlow", "MageTaskAttribute")) return true;
        }
        for (ISymbol current = method.ContainingType; current.ContainingSymbol is INamespaceOrTypeSymbol container; current = container)
        {
            foreach (var sibling in container.GetMembers())
            {
                if (sibling is INamespaceOrTypeSymbol && IsCaseTwin(sibling.Name, current.Name)) return true;
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
