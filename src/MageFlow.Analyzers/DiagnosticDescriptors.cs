using Microsoft.CodeAnalysis;

namespace MageFlow.Analyzers;

/// <summary>The one catalogue of MageFlow diagnostics; each links to its page under docs/diagnostics.</summary>
public static class DiagnosticDescriptors
{
    private const string Category = "MageFlow";
    private const string HelpLinkBase = "https://github.com/mageflow/mageflow-dotnet/blob/main/docs/diagnostics/";

    public static readonly DiagnosticDescriptor ReturnValueTypeMismatch = new(
        DiagnosticIds.ReturnValueTypeMismatch,
        title: "Success callback cannot hold the task's return value",
        messageFormat: "Task '{0}' returns '{1}' but success callback '{2}' receives it in member '{3}' of type '{4}'",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The finished task's return value is written into the success callback message's [ReturnValue] (or MageflowResults) member; that member's type must be able to read it back from JSON.",
        helpLinkUri: HelpLink(DiagnosticIds.ReturnValueTypeMismatch));

    public static readonly DiagnosticDescriptor ReturnValueDropped = new(
        DiagnosticIds.ReturnValueDropped,
        title: "Success callback drops the task's return value",
        messageFormat: "Task '{0}' returns '{1}' but success callback '{2}' has no [ReturnValue] or MageflowResults member in '{3}': the return value is dropped",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A success callback receives the task's return value in its message's [ReturnValue] member, else in a member named MageflowResults; a message with neither never sees the value.",
        helpLinkUri: HelpLink(DiagnosticIds.ReturnValueDropped));

    public static readonly DiagnosticDescriptor ErrorCallbackMemberWithoutSource = new(
        DiagnosticIds.ErrorCallbackMemberWithoutSource,
        title: "Error callback message cannot be built",
        messageFormat: "Error callback '{0}' requires member '{1}' of '{2}', but the failed task's message '{3}' has no compatible member '{4}' and the callback does not bind it",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "An error callback runs with the failed task's message merged with the callback's own bound kwargs; every required member of the callback's message must come from one of them.",
        helpLinkUri: HelpLink(DiagnosticIds.ErrorCallbackMemberWithoutSource));

    public static readonly DiagnosticDescriptor MultipleReturnValueMembers = new(
        DiagnosticIds.MultipleReturnValueMembers,
        title: "More than one [ReturnValue] member",
        messageFormat: "'{0}' already receives the return value in member '{1}'; remove [ReturnValue] from '{2}'",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A message type has exactly one member that receives a success callback's return value.",
        helpLinkUri: HelpLink(DiagnosticIds.MultipleReturnValueMembers));

    public static readonly DiagnosticDescriptor UnsupportedTaskMethod = new(
        DiagnosticIds.UnsupportedTaskMethod,
        title: "Unsupported [MageTask] method",
        messageFormat: "[MageTask] method '{0}' is not supported: {1}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A task method takes at most one message parameter plus an optional CancellationToken and TaskContext, returns void, T, Task, Task<T>, ValueTask or ValueTask<T>, and is reachable from generated code in its assembly.",
        helpLinkUri: HelpLink(DiagnosticIds.UnsupportedTaskMethod));

    /// <summary>
    /// MAGE005 too, for a valid method whose builder class another task keeps: which one keeps it is settled over every
    /// task of the compilation, so it is reported at compilation end (hence its own descriptor, as MAGE007 has two).
    /// </summary>
    public static readonly DiagnosticDescriptor BuilderClassTaken = new(
        DiagnosticIds.UnsupportedTaskMethod,
        title: "Unsupported [MageTask] method",
        messageFormat: "[MageTask] method '{0}' is not supported: {1}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Builder classes are named after their method in the namespace of its type; of two tasks wanting one class, the one whose generated file name sorts first keeps it and the other gets no builder.",
        helpLinkUri: HelpLink(DiagnosticIds.UnsupportedTaskMethod),
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor DuplicateTaskName = new(
        DiagnosticIds.DuplicateTaskName,
        title: "Duplicate task name",
        messageFormat: "Task name '{0}' of '{1}' is also used by {2}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Task names identify tasks across processes; two [MageTask] methods with one name would receive each other's runs.",
        helpLinkUri: HelpLink(DiagnosticIds.DuplicateTaskName),
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ChainStepTypeMismatch = new(
        DiagnosticIds.WorkflowResultTypeMismatch,
        title: "Chain step cannot hold the previous step's return value",
        messageFormat: "Chain step '{0}' returns '{1}' but the next step '{2}' receives it in member '{3}' of type '{4}'",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "In a chain, each step's return value is written into the next step message's [ReturnValue] (or MageflowResults) member; that member's type must be able to read it back from JSON.",
        helpLinkUri: HelpLink(DiagnosticIds.WorkflowResultTypeMismatch));

    /// <summary>
    /// MAGE007 too: the same mistake (a result that does not fit where it goes) in a swarm, so one id silences both;
    /// its own message, as the chain's names two steps.
    /// </summary>
    public static readonly DiagnosticDescriptor SwarmItemTypeMismatch = new(
        DiagnosticIds.WorkflowResultTypeMismatch,
        title: "Swarm item's return value does not fit the swarm's result type",
        messageFormat: "Swarm item '{0}' returns '{1}', which the swarm's result type '{2}' cannot hold",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A swarm signed with SwarmAsync<TResult> hands its items' results to its success callbacks (and RunAndWaitAsync) as a list of TResult; each item's return value must read back from JSON as TResult.",
        helpLinkUri: HelpLink(DiagnosticIds.WorkflowResultTypeMismatch));

    private static string HelpLink(string id) => HelpLinkBase + id + ".md";
}
