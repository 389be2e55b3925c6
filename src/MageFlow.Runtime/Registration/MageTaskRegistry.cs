using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace MageFlow;

/// <summary>
/// The tasks one client knows, by name: the allow-list of message types (rule 15). Built from the
/// generated catalogue plus tasks added through <c>MageFlowOptions.AddTask</c>.
/// </summary>
public sealed class MageTaskRegistry
{
    private readonly Dictionary<string, TaskDescriptor> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, string> _returnFieldByMessageType = [];

    /// <summary>Every task this client knows.</summary>
    public IReadOnlyCollection<TaskDescriptor> Tasks => _byName.Values;

    /// <summary>
    /// Adds a task; the host fills the registry at start-up from the catalogue and <c>MageFlowOptions.AddTask</c>.
    /// Throws <see cref="InvalidOperationException"/> when another task already has its name.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Add(TaskDescriptor descriptor)
    {
        if (_byName.TryGetValue(descriptor.Name, out var existing))
        {
            if (ReferenceEquals(existing, descriptor)) return;
            throw new InvalidOperationException(
                $"Task name '{descriptor.Name}' is registered twice: message {existing.MessageType.FullName} and message {descriptor.MessageType.FullName}. Task names must be unique across a deployment.");
        }
        _byName.Add(descriptor.Name, descriptor);
        _returnFieldByMessageType.TryAdd(descriptor.MessageType, descriptor.Options.ReturnField);
    }

    /// <summary>Finds the task named <paramref name="taskName"/> (ordinal comparison).</summary>
    public bool TryGet(string taskName, [NotNullWhen(true)] out TaskDescriptor? descriptor) => _byName.TryGetValue(taskName, out descriptor);

    /// <summary>The return field of a registered message type, or null when no task takes that type.</summary>
    public string? ReturnFieldOf(Type messageType) => _returnFieldByMessageType.GetValueOrDefault(messageType);
}

/// <summary>
/// Process-wide list that generated module initializers fill: every <c>[MageTask]</c> of an assembly is
/// added when that assembly's module loads. The entry assembly loads first; for a library, call
/// <see cref="IncludeAssemblyOf{TMarker}"/> (or <c>AddMageFlowTasksFrom&lt;T&gt;()</c>) once.
/// </summary>
public static class MageTaskCatalog
{
    private static readonly Lock Gate = new();
    private static readonly List<TaskDescriptor> Registered = [];

    /// <summary>Called by generated code.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void Register(TaskDescriptor descriptor)
    {
        lock (Gate)
        {
            if (Registered.Exists(d => d.Name == descriptor.Name && d.MessageType == descriptor.MessageType)) return;
            Registered.Add(descriptor);
        }
    }

    /// <summary>Runs the module initializer of the assembly holding <typeparamref name="TMarker"/>, registering its tasks.</summary>
    public static void IncludeAssemblyOf<TMarker>() =>
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(typeof(TMarker).Module.ModuleHandle);

    /// <summary>The tasks registered so far, in registration order.</summary>
    public static IReadOnlyList<TaskDescriptor> Snapshot()
    {
        lock (Gate) return Registered.ToArray();
    }
}
