using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace MageFlow.Shared;

/// <summary>The verdict on one <c>[MageTask]</c> method: the model its builder is emitted from, or why it gets none.</summary>
internal sealed class TaskClassification
{
    public TaskClassification(TaskModel model)
    {
        Model = model;
        Problems = ImmutableArray<string>.Empty;
    }

    public TaskClassification(ImmutableArray<string> problems) => Problems = problems;

    /// <summary>Null exactly when <see cref="Problems"/> is not empty.</summary>
    public TaskModel? Model { get; }

    /// <summary>Why the method gets no builder, each worded as the reason of a MAGE005 ("it is generic; …").</summary>
    public ImmutableArray<string> Problems { get; }
}

/// <summary>
/// The one rule set for <c>[MageTask]</c> methods, compiled into the generator (which emits a builder from the model)
/// and the analyzers (which report the problems as MAGE005). A method is judged on its own here; which of two valid
/// tasks keeps a builder class or a task name is settled over all of them by <see cref="TaskClaims"/>.
/// </summary>
internal static class TaskClassifier
{
    /// <summary>Names the builder class declares itself: a method of one of these names would clash with them.</summary>
    private static readonly ImmutableHashSet<string> BuilderMemberNames =
        ImmutableHashSet.Create(System.StringComparer.Ordinal, "TaskName", "Descriptor", "AsignAsync", "Signature", "KwargsBinder");

    public static TaskClassification Classify(IMethodSymbol method, AttributeData mageTask, CancellationToken cancellationToken)
    {
        var problems = Problems(method, mageTask).ToImmutableArray();
        if (problems.Length > 0) return new TaskClassification(problems);
        cancellationToken.ThrowIfCancellationRequested();
        return new TaskClassification(TaskModelBuilder.Build(method, mageTask, cancellationToken));
    }

    /// <summary>The explicit name of <c>[MageTask("name")]</c> (an empty one means the default), else the kebab-cased method name.</summary>
    public static string TaskName(IMethodSymbol method, AttributeData mageTask) =>
        mageTask.ConstructorArguments.Length == 1 && mageTask.ConstructorArguments[0].Value is string { Length: > 0 } explicitName
            ? explicitName
            : MageNaming.DefaultTaskName(method.Name);

    /// <summary>What the handler passes for a parameter: a token, the task context, or else the message.</summary>
    public static ArgumentKind ArgumentKindOf(IParameterSymbol parameter) =>
        KnownTypes.Is(parameter.Type, "System.Threading", "CancellationToken") ? ArgumentKind.CancellationToken
        : KnownTypes.Is(parameter.Type, KnownTypes.MageFlow, "TaskContext") ? ArgumentKind.Context
        : ArgumentKind.Message;

    /// <summary>How the method returns and the type of its result (null when there is none); by-ref returns are a problem of their own.</summary>
    public static (ReturnShape Shape, ITypeSymbol? Result) ReadReturn(IMethodSymbol method)
    {
        var returnType = method.ReturnType;
        if (method.ReturnsVoid) return (ReturnShape.Void, null);
        if (KnownTypes.Is(returnType, KnownTypes.Tasks, "Task")) return (ReturnShape.Task, null);
        if (KnownTypes.Is(returnType, KnownTypes.Tasks, "ValueTask")) return (ReturnShape.ValueTask, null);
        if (KnownTypes.Is(returnType, KnownTypes.Tasks, "Task", 1)) return (ReturnShape.TaskOfResult, ((INamedTypeSymbol)returnType).TypeArguments[0]);
        if (KnownTypes.Is(returnType, KnownTypes.Tasks, "ValueTask", 1)) return (ReturnShape.ValueTaskOfResult, ((INamedTypeSymbol)returnType).TypeArguments[0]);
        return (ReturnShape.Value, returnType);
    }

    /// <summary>
    /// Types JSON can carry and generated code can name: no pointers, ref structs, dynamic or void. Type parameters
    /// pass: they only occur in generic methods and types, which are problems of their own.
    /// </summary>
    public static bool CanTravelAsJson(ITypeSymbol type) =>
        type.TypeKind is not (TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Dynamic)
        && !type.IsRefLikeType
        && type.SpecialType != SpecialType.System_Void
        && (type is not IArrayTypeSymbol array || CanTravelAsJson(array.ElementType))
        && (type is not INamedTypeSymbol named || named.TypeArguments.All(CanTravelAsJson));

    /// <summary>The type or one of its parts is not declared anywhere (the compiler reports it too).</summary>
    public static bool IsUnresolved(ITypeSymbol type) =>
        type.TypeKind == TypeKind.Error
        || (type is IArrayTypeSymbol array && IsUnresolved(array.ElementType))
        || (type is INamedTypeSymbol named && named.TypeArguments.Any(IsUnresolved));

    private static IEnumerable<string> Problems(IMethodSymbol method, AttributeData mageTask)
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
        if (EarlierTaskOverload(method) is { } earlier)
            yield return $"another [MageTask] method '{method.Name}' of '{method.ContainingType.Name}' (line {earlier.Locations[0].GetLineSpan().StartLinePosition.Line + 1}) already gets the builder class '{method.Name}'; rename one of them";
        else if (BuilderNameTaken(method) is { } taken)
            yield return taken;

        foreach (var settingProblem in SettingProblems(method, mageTask))
            yield return settingProblem;

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

        foreach (var parameterProblem in ParameterProblems(method))
            yield return parameterProblem;

        if (ReturnProblem(method) is { } returnProblem)
            yield return returnProblem;

        if (AccessibilityProblem(method) is { } accessProblem)
            yield return accessProblem;

        if (method.IsStatic && (method.IsAbstract || method.IsVirtual))
            yield return "it is a static abstract or virtual interface member, which only a type parameter can call; make it a static method with a body";
        if (!method.IsStatic && method.ContainingType is { } containingType)
        {
            // Instance tasks are resolved from DI, which needs a concrete class.
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

    /// <summary>Settings the runtime rejects when it registers the task: the descriptor would throw from the module initializer.</summary>
    private static IEnumerable<string> SettingProblems(IMethodSymbol method, AttributeData mageTask)
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

    /// <summary>Two <c>[MageTask]</c> overloads would both become a class of the same name; the first in declaration order keeps it.</summary>
    private static IMethodSymbol? EarlierTaskOverload(IMethodSymbol method)
    {
        foreach (var member in method.ContainingType.GetMembers(method.Name))
        {
            if (!KnownTypes.IsMageTask(member)) continue;
            return SymbolEqualityComparer.Default.Equals(member, method) ? null : (IMethodSymbol)member;
        }
        return null;
    }

    /// <summary>The builder class is named after the method in the namespace of its type: a type or namespace of that name there takes it first.</summary>
    private static string? BuilderNameTaken(IMethodSymbol method)
    {
        var ns = method.ContainingType.ContainingNamespace;
        var builderName = ns.IsGlobalNamespace ? method.Name : ns.ToDisplayString() + "." + method.Name;
        foreach (var existing in ns.GetMembers(method.Name))
        {
            if (existing is INamespaceSymbol)
                return $"the namespace '{existing.ToDisplayString()}' already has the name of its builder class; rename the method and keep the task name with [MageTask(\"...\")]";
            if (existing is INamedTypeSymbol { Arity: 0 } type && !KnownTypes.IsGeneratedBuilder(type, method.ContainingAssembly))
                return $"the type '{type.ToDisplayString()}' already has the name of its builder class '{builderName}'; rename the method and keep the task name with [MageTask(\"...\")]";
        }
        return null;
    }

    private static IEnumerable<string> ParameterProblems(IMethodSymbol method)
    {
        var messageParameters = new List<IParameterSymbol>();
        int cancellationTokens = 0, contexts = 0;
        foreach (var parameter in method.Parameters)
        {
            if (parameter.RefKind != RefKind.None)
                yield return $"parameter '{parameter.Name}' is passed by '{RefKindKeyword(parameter.RefKind)}'; task inputs arrive as JSON and are passed by value";
            else if (parameter.IsParams)
                yield return $"parameter '{parameter.Name}' is 'params'; a task takes one message parameter";

            switch (ArgumentKindOf(parameter))
            {
                case ArgumentKind.CancellationToken: cancellationTokens++; break;
                case ArgumentKind.Context: contexts++; break;
                default: messageParameters.Add(parameter); break;
            }
        }
        if (messageParameters.Count > 1)
            yield return "it takes more than one message parameter (" + string.Join(", ", messageParameters.Select(p => "'" + p.Name + "'")) + "); put them into one message type";
        else if (messageParameters.Count == 1 && messageParameters[0] is var message)
        {
            if (IsUnresolved(message.Type))
                yield return $"the type '{message.Type.ToDisplayString()}' of its message parameter '{message.Name}' does not resolve";
            else if (!CanTravelAsJson(message.Type))
                yield return $"its message parameter '{message.Name}' of type '{message.Type.ToDisplayString()}' cannot be read from JSON";
        }
        if (cancellationTokens > 1)
            yield return "it takes more than one CancellationToken";
        if (contexts > 1)
            yield return "it takes more than one TaskContext";
    }

    private static string? ReturnProblem(IMethodSymbol method)
    {
        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
            return "it returns by reference";

        var (shape, result) = ReadReturn(method);
        if (result is null) return null;
        var awaitedPrefix = shape is ReturnShape.TaskOfResult or ReturnShape.ValueTaskOfResult
            ? $"'{method.ReturnType.ToDisplayString()}' is awaited once, so its result "
            : "";
        if (KnownTypes.Is(result, "System.Collections.Generic", "IAsyncEnumerable", 1))
            return $"its return type '{result.ToDisplayString()}' is a stream; a task returns one value (void, T, Task, Task<T>, ValueTask or ValueTask<T>)";
        if (IsAwaitable(result))
            return $"{awaitedPrefix}'{result.ToDisplayString()}' is itself awaitable; return void, T, Task, Task<T>, ValueTask or ValueTask<T>";
        if (IsUnresolved(result))
            return $"its return type '{result.ToDisplayString()}' does not resolve";
        if (!CanTravelAsJson(result))
            return $"its return type '{result.ToDisplayString()}' cannot be serialized as JSON";
        return null;
    }

    /// <summary>A result that is itself a task (Task&lt;Task&gt;, a custom task-like type) would be serialized instead of awaited.</summary>
    private static bool IsAwaitable(ITypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (KnownTypes.Is(current, KnownTypes.Tasks, "Task") || KnownTypes.Is(current, KnownTypes.Tasks, "Task", 1)
                || KnownTypes.Is(current, KnownTypes.Tasks, "ValueTask") || KnownTypes.Is(current, KnownTypes.Tasks, "ValueTask", 1))
                return true;
        }
        // custom task-like types carry [AsyncMethodBuilder]
        return type.GetAttributes().Any(a => a.AttributeClass is { Name: "AsyncMethodBuilderAttribute" });
    }

    /// <summary>The generated builder lives in another type of the same assembly: the method must be reachable from it.</summary>
    private static string? AccessibilityProblem(IMethodSymbol method)
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
}
