using System.ComponentModel;

namespace MageFlow;

/// <summary>
/// Put by the generator on each builder class it emits (<c>ProcessOrder</c>), so analyzers can tell a task's
/// message and result types from its builder alone. Not meant for hand-written code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GeneratedMageTaskAttribute(string taskName, Type messageType, Type? resultType, string returnField) : Attribute
{
    /// <summary>The task's name.</summary>
    public string TaskName { get; } = taskName;

    /// <summary>The task's message type (<see cref="NoMessage"/> when the method takes none).</summary>
    public Type MessageType { get; } = messageType;

    /// <summary>The task's result type, or null when it returns nothing.</summary>
    public Type? ResultType { get; } = resultType;

    /// <summary>Wire name of the message member that receives a result when this task is a success callback.</summary>
    public string ReturnField { get; } = returnField;
}

/// <summary>The message type of a task method that takes no message parameter.</summary>
public sealed record NoMessage;
