namespace MageFlow.Shared;

/// <summary>How the user's method returns, which decides how the generated handler adapts it to a ValueTask.</summary>
internal enum ReturnShape
{
    Void,
    Value,
    Task,
    TaskOfResult,
    ValueTask,
    ValueTaskOfResult,
}

/// <summary>What the generated handler passes for one parameter of the user's method.</summary>
internal enum ArgumentKind
{
    Message,
    CancellationToken,
    Context,
}

/// <summary>
/// Everything needed to emit one task's builder, as plain values: type names are <c>global::</c>-qualified
/// strings, identifiers are already escaped.
/// </summary>
/// <param name="HintName">Unique source file name, derived from the method's metadata name.</param>
/// <param name="Namespace">Namespace of the method's containing type; empty for the global namespace.</param>
/// <param name="BuilderName">Identifier of the emitted static class (the method name).</param>
/// <param name="BuilderFullName">The emitted class, <c>global::</c>-qualified, for the registration file.</param>
/// <param name="IsPublic">False when the method or its message type is not public, so the builder must be internal.</param>
/// <param name="TaskName">The task's name as stored on signatures.</param>
/// <param name="MessageType">Message type as a type argument (nested nullable annotations kept).</param>
/// <param name="MessageTypeOf">Message type as written inside <c>typeof(...)</c>.</param>
/// <param name="ResultType">Result type as a type argument; null when the task returns nothing.</param>
/// <param name="ResultTypeOf">Result type inside <c>typeof(...)</c>; null when the task returns nothing.</param>
/// <param name="ReturnShape">How the method returns.</param>
/// <param name="DeclaringType">The method's containing type, <c>global::</c>-qualified.</param>
/// <param name="MethodName">The method name, escaped.</param>
/// <param name="IsInstance">Whether the declaring type must be resolved from DI.</param>
/// <param name="Arguments">What to pass for each method parameter, in order.</param>
/// <param name="Retries">MageTaskAttribute.Retries.</param>
/// <param name="TimeoutSeconds">MageTaskAttribute.TimeoutSeconds; 0 for none.</param>
/// <param name="RetryDelayMilliseconds">MageTaskAttribute.RetryDelayMilliseconds; 0 for the worker default.</param>
/// <param name="ReturnField">Wire name of the message member receiving a result when this task is a success callback.</param>
/// <param name="Kwargs">The message members that can be bound when signing, in declaration order.</param>
internal sealed record TaskModel(
    string HintName,
    string Namespace,
    string BuilderName,
    string BuilderFullName,
    bool IsPublic,
    string TaskName,
    string MessageType,
    string MessageTypeOf,
    string? ResultType,
    string? ResultTypeOf,
    ReturnShape ReturnShape,
    string DeclaringType,
    string MethodName,
    bool IsInstance,
    EquatableArray<ArgumentKind> Arguments,
    int Retries,
    int TimeoutSeconds,
    int RetryDelayMilliseconds,
    string ReturnField,
    EquatableArray<KwargModel> Kwargs);

/// <summary>One bindable message member.</summary>
/// <param name="ParameterName">Builder parameter name: camelCase, escaped, de-clashed.</param>
/// <param name="WireName">JSON name of the member.</param>
/// <param name="Type">Member type with nullable annotations, <c>global::</c>-qualified.</param>
internal sealed record KwargModel(string ParameterName, string WireName, string Type);
