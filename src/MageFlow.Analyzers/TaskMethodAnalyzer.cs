using MageFlow.Shared;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace MageFlow.Analyzers;

/// <summary>MAGE005 (unsupported [MageTask] method shape) and MAGE006 (task name used twice).</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TaskMethodAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.UnsupportedTaskMethod, DiagnosticDescriptors.DuplicateTaskName);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (MageSymbols.TryCreate(start.Compilation) is not { } symbols) return;

            var namedTasks = new ConcurrentBag<(string Name, IMethodSymbol Method)>();
            start.RegisterSymbolAction(symbolContext =>
            {
                var method = (IMethodSymbol)symbolContext.Symbol;
                if (MageSymbols.FindAttribute(method, symbols.MageTaskAttribute) is not { } attribute) return;

                foreach (var reason in UnsupportedShapeReasons(method, attribute, symbols))
                {
                    symbolContext.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.UnsupportedTaskMethod, method.Locations[0], method.Name, reason));
                }
                namedTasks.Add((TaskName(method, attribute), method));
            }, SymbolKind.Method);

            start.RegisterCompilationEndAction(end => ReportDuplicateNames(end, namedTasks));
        });
    }

    /// <summary>The explicit name of <c>[MageTask("name")]</c>, else the kebab-cased method name.</summary>
    internal static string TaskName(IMethodSymbol method, AttributeData mageTask) =>
        mageTask.ConstructorArguments.Length == 1 && mageTask.ConstructorArguments[0].Value is string { Length: > 0 } explicitName
            ? explicitName
            : MageNaming.DefaultTaskName(method.Name);

    /// <summary>Members of the generated builder class: a task method of one of these names would clash with them.</summary>
    private static readonly ImmutableHashSet<string> BuilderMemberNames =
        ImmutableHashSet.Create(System.StringComparer.Ordinal, "TaskName", "Descriptor", "AsignAsync", "Signature", "KwargsBinder");

    private static IEnumerable<string> UnsupportedShapeReasons(IMethodSymbol method, AttributeData mageTask, MageSymbols symbols)
    {
        if (method.MethodKind != MethodKind.Ordinary)
        {
            yield return "it is not an ordinary method";
            yield break;
        }
        if (method.IsGenericMethod)
            yield return "it is generic; the generated builder needs concrete message and result types";
        if (BuilderMemberNames.Contains(method.Name))
            yield return $"its name '{method.Name}' is also a member of the generated builder class; rename the method and keep the task name with [MageTask(\"...\")]";
        if (EarlierTaskOverload(method, symbols) is { } earlier)
            yield return $"another [MageTask] method '{method.Name}' of '{method.ContainingType.Name}' (line {earlier.Locations[0].GetLineSpan().StartLinePosition.Line + 1}) already gets the builder class '{method.Name}'; rename one of them";
        else if (BuilderClassClash(method, symbols) is { } clash)
            yield return clash;

        foreach (var settingReason in InvalidSettingReasons(method, mageTask))
            yield return settingReason;

        for (var outer = method.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (outer.IsGenericType)
            {
                yield return $"its containing type '{outer.Name}' is generic";
                break;
            }
            if (outer.IsFileLocal)
            {
                yield return $"its containing type '{outer.Name}' is file-local; the generated builder lives in another file";
                break;
            }
        }

        var messageParameters = new List<IParameterSymbol>();
        int cancellationTokens = 0, contexts = 0;
        foreach (var parameter in method.Parameters)
        {
            if (parameter.RefKind != RefKind.None)
                yield return $"parameter '{parameter.Name}' is passed by '{RefKindKeyword(parameter.RefKind)}'; task inputs arrive as JSON and are passed by value";
            else if (parameter.IsParams)
                yield return $"parameter '{parameter.Name}' is 'params'; a task takes one message parameter";

            if (MageSymbols.Is(parameter.Type, symbols.CancellationToken)) cancellationTokens++;
            else if (MageSymbols.Is(parameter.Type, symbols.TaskContext)) contexts++;
            else messageParameters.Add(parameter);
        }
        if (messageParameters.Count > 1)
            yield return "it takes more than one message parameter (" + string.Join(", ", messageParameters.Select(p => "'" + p.Name + "'")) + "); put them into one message type";
        else if (messageParameters.Count == 1 && !IsJsonReadable(messageParameters[0].Type))
            yield return $"its message parameter '{messageParameters[0].Name}' of type '{messageParameters[0].Type.ToDisplayString()}' cannot be read from JSON";
        if (cancellationTokens > 1)
            yield return "it takes more than one CancellationToken";
        if (contexts > 1)
            yield return "it takes more than one TaskContext";

        if (UnsupportedReturnReason(method, symbols) is { } returnReason)
            yield return returnReason;

        if (InaccessibleReason(method) is { } accessReason)
            yield return accessReason;

        if (method.IsStatic && (method.IsAbstract || method.IsVirtual))
            yield return "it is a static abstract or virtual interface member, which only a type parameter can call; make it a static method with a body";
        if (!method.IsStatic && method.ContainingType is { } containingType)
        {
            if (containingType.IsStatic)
                yield return "it is an instance method of a static class; make it static";
            else if (containingType.TypeKind == TypeKind.Interface)
                yield return "it is an instance method of an interface; put it on a class the worker can create";
            else if (containingType.TypeKind == TypeKind.Struct)
                yield return "it is an instance method of a struct; put it on a class or make it static";
            else if (containingType.IsAbstract)
                yield return "it is an instance method of an abstract class, which the worker cannot create; make it static or move it to a concrete class";
        }
    }

    /// <summary>Task settings the runtime rejects when it registers the task (the generator then emits nothing).</summary>
    private static IEnumerable<string> InvalidSettingReasons(IMethodSymbol method, AttributeData mageTask)
    {
        var taskName = TaskName(method, mageTask);
        if (MageNaming.TaskNameProblem(taskName) is { } problem)
            yield return $"its task name '{taskName}' can never be a task name: {problem}";
        foreach (var setting in mageTask.NamedArguments)
        {
            if (setting.Value.Value is int value && value < 0)
                yield return $"{setting.Key} is negative ({value})";
        }
    }

    private static IMethodSymbol? EarlierTaskOverload(IMethodSymbol method, MageSymbols symbols)
    {
        foreach (var member in method.ContainingType.GetMembers(method.Name))
        {
            if (member is not IMethodSymbol candidate || !MageSymbols.HasAttribute(candidate, symbols.MageTaskAttribute)) continue;
            return SymbolEqualityComparer.Default.Equals(candidate, method) ? null : candidate;
        }
        return null;
    }

    /// <summary>
    /// The builder class is named after the method in the namespace of its type. A hand-written type or a namespace
    /// of that name takes it first; between two [MageTask] methods of one namespace, the generator keeps the one whose
    /// declaring type sorts first (ordinally, by metadata name) and emits nothing for the other.
    /// </summary>
    private static string? BuilderClassClash(IMethodSymbol method, MageSymbols symbols)
    {
        var outermost = method.ContainingType;
        while (outermost.ContainingType is not null) outermost = outermost.ContainingType;
        var ns = outermost.ContainingNamespace;
        var builderName = ns.IsGlobalNamespace ? method.Name : ns.ToDisplayString() + "." + method.Name;

        foreach (var existing in ns.GetMembers(method.Name))
        {
            if (existing is INamespaceSymbol)
                return $"the namespace '{existing.ToDisplayString()}' already has the name of its builder class; rename the method and keep the task name with [MageTask(\"...\")]";
            if (existing is INamedTypeSymbol { Arity: 0 } type && !MageSymbols.HasAttribute(type, symbols.GeneratedMageTaskAttribute))
                return $"the type '{type.ToDisplayString()}' already has the name of its builder class '{builderName}'; rename the method and keep the task name with [MageTask(\"...\")]";
        }

        var pending = new Stack<INamedTypeSymbol>(ns.GetTypeMembers());
        while (pending.Count > 0)
        {
            var type = pending.Pop();
            foreach (var nested in type.GetTypeMembers()) pending.Push(nested);
            if (SymbolEqualityComparer.Default.Equals(type, method.ContainingType)) continue;
            foreach (var member in type.GetMembers(method.Name))
            {
                if (member is IMethodSymbol other && MageSymbols.HasAttribute(other, symbols.MageTaskAttribute)
                    && string.CompareOrdinal(BuilderClaimKey(other), BuilderClaimKey(method)) < 0)
                    return $"'{other.ContainingType.ToDisplayString()}.{other.Name}' already gets the builder class '{builderName}'; rename one of the methods and keep the task name with [MageTask(\"...\")]";
            }
        }
        return null;
    }

    /// <summary>The declaring type's nesting path as the generator orders builder claims (<c>Outer+Inner.Method</c>).</summary>
    private static string BuilderClaimKey(IMethodSymbol method)
    {
        var typeNames = new List<string>();
        for (var type = method.ContainingType; type is not null; type = type.ContainingType) typeNames.Add(type.MetadataName);
        typeNames.Reverse();
        return string.Join("+", typeNames) + "." + method.Name;
    }

    /// <summary>
    /// Types JSON can carry: no pointers, ref structs or dynamic. Type parameters pass here: they only occur in
    /// generic methods and types, which are reported as such.
    /// </summary>
    private static bool IsJsonReadable(ITypeSymbol type) =>
        type.TypeKind is not (TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Dynamic)
        && !type.IsRefLikeType
        && (type is not IArrayTypeSymbol array || IsJsonReadable(array.ElementType))
        && (type is not INamedTypeSymbol named || named.TypeArguments.All(IsJsonReadable));

    private static string? UnsupportedReturnReason(IMethodSymbol method, MageSymbols symbols)
    {
        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
            return "it returns by reference";
        if (method.ReturnsVoid) return null;

        var returnType = method.ReturnType;
        if (MageSymbols.Is(returnType, symbols.Task) || MageSymbols.Is(returnType, symbols.ValueTask)) return null;
        if (returnType is INamedTypeSymbol { TypeArguments.Length: 1 } awaited
            && (MageSymbols.Is(awaited, symbols.TaskOfT) || MageSymbols.Is(awaited, symbols.ValueTaskOfT)))
        {
            return UnsupportedResultReason(awaited.TypeArguments[0], symbols, $"'{returnType.ToDisplayString()}' is awaited once, so its result ");
        }
        return UnsupportedResultReason(returnType, symbols, "");
    }

    private static string? UnsupportedResultReason(ITypeSymbol result, MageSymbols symbols, string prefix)
    {
        if (MageSymbols.Is(result, symbols.AsyncEnumerableOfT))
            return $"its return type '{result.ToDisplayString()}' is a stream; a task returns one value (void, T, Task, Task<T>, ValueTask or ValueTask<T>)";
        if (IsTaskLike(result, symbols))
            return $"{prefix}'{result.ToDisplayString()}' is itself awaitable; return void, T, Task, Task<T>, ValueTask or ValueTask<T>";
        if (!IsJsonReadable(result))
            return $"its return type '{result.ToDisplayString()}' cannot be serialized as JSON";
        return null;
    }

    private static bool IsTaskLike(ITypeSymbol type, MageSymbols symbols)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (MageSymbols.Is(current, symbols.Task) || MageSymbols.Is(current, symbols.TaskOfT)
                || MageSymbols.Is(current, symbols.ValueTask) || MageSymbols.Is(current, symbols.ValueTaskOfT))
                return true;
        }
        // custom task-like types carry [AsyncMethodBuilder]
        return type.GetAttributes().Any(a => a.AttributeClass is { Name: "AsyncMethodBuilderAttribute" });
    }

    private static string? InaccessibleReason(IMethodSymbol method)
    {
        if (IsHiddenFromAssembly(method.DeclaredAccessibility))
            return $"it is {AccessibilityKeyword(method.DeclaredAccessibility)}; the generated builder in the same assembly needs it to be internal or public";
        for (var outer = method.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (IsHiddenFromAssembly(outer.DeclaredAccessibility))
                return $"its containing type '{outer.Name}' is {AccessibilityKeyword(outer.DeclaredAccessibility)}; the generated builder in the same assembly needs it to be internal or public";
        }
        return null;
    }

    private static bool IsHiddenFromAssembly(Accessibility accessibility) =>
        accessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal;

    private static string AccessibilityKeyword(Accessibility accessibility) => accessibility switch
    {
        Accessibility.Private => "private",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => accessibility.ToString().ToLowerInvariant(),
    };

    private static string RefKindKeyword(RefKind refKind) => refKind switch
    {
        RefKind.Ref => "ref",
        RefKind.Out => "out",
        RefKind.In => "in",
        _ => "ref readonly",
    };

    private static void ReportDuplicateNames(CompilationAnalysisContext context, ConcurrentBag<(string Name, IMethodSymbol Method)> namedTasks)
    {
        foreach (var group in namedTasks.GroupBy(t => t.Name, System.StringComparer.Ordinal))
        {
            // source order keeps the message deterministic whatever order the concurrent actions ran in
            var methods = group.Select(t => t.Method).OrderBy(m => m.Locations[0].SourceTree?.FilePath, System.StringComparer.Ordinal)
                .ThenBy(m => m.Locations[0].SourceSpan.Start).ToList();
            if (methods.Count < 2) continue;
            foreach (var method in methods)
            {
                var others = string.Join(", ", methods.Where(m => !SymbolEqualityComparer.Default.Equals(m, method)).Select(m => "'" + DisplayName(m) + "'"));
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateTaskName, method.Locations[0], group.Key, DisplayName(method), others));
            }
        }
    }

    private static string DisplayName(IMethodSymbol method) => method.ContainingType.ToDisplayString() + "." + method.Name;
}
