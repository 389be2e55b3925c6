using System.Collections.Generic;
using System.Linq;

namespace MageFlow.Shared;

/// <summary>A valid task's claims on the names that must be unique among the tasks of a compilation.</summary>
/// <param name="HintName">Identifies the task (and orders the claims on one builder class).</param>
/// <param name="BuilderFullName">The builder class the task wants, <c>global::</c>-qualified.</param>
/// <param name="TaskName">The name the runtime registers the task under.</param>
internal sealed record TaskClaim(string HintName, string BuilderFullName, string TaskName)
{
    public static TaskClaim Of(TaskModel task) => new(task.HintName, task.BuilderFullName, task.TaskName);
}

/// <summary>How the claims of a compilation's valid tasks were settled: who lost a builder class, who shares a task name.</summary>
internal sealed class SettledClaims
{
    public SettledClaims(IReadOnlyList<(TaskClaim Loser, TaskClaim Winner)> lostBuilders, IReadOnlyList<IReadOnlyList<TaskClaim>> sharedTaskNames)
    {
        LostBuilders = lostBuilders;
        SharedTaskNames = sharedTaskNames;
    }

    /// <summary>Each task that wants a builder class another task keeps, with that task.</summary>
    public IReadOnlyList<(TaskClaim Loser, TaskClaim Winner)> LostBuilders { get; }

    /// <summary>Groups of two or more tasks that would keep a builder but share one task name.</summary>
    public IReadOnlyList<IReadOnlyList<TaskClaim>> SharedTaskNames { get; }

    /// <summary>Hint names of every task that gets no builder, sorted ordinally.</summary>
    public IEnumerable<string> LeftOutHintNames() =>
        LostBuilders.Select(lost => lost.Loser.HintName)
            .Concat(SharedTaskNames.SelectMany(group => group.Select(claim => claim.HintName)))
            .OrderBy(hint => hint, System.StringComparer.Ordinal);
}

/// <summary>
/// Settles the claims between valid tasks, for the generator (which leaves the losers out) and the analyzers (which
/// report them: MAGE005, MAGE006). Invalid tasks claim nothing: they get no builder and are never registered.
/// </summary>
internal static class TaskClaims
{
    /// <summary>
    /// Builders are named after their method, so two tasks of one namespace can want the same class, and only one may
    /// have it or the namespace stops compiling: the ordinally first hint name keeps it. Of the tasks that keep a
    /// builder, none sharing a task name gets one: the runtime refuses a name registered twice, and which task is
    /// meant is for the user to say.
    /// </summary>
    public static SettledClaims Settle(IEnumerable<TaskClaim> claims)
    {
        var lostBuilders = new List<(TaskClaim Loser, TaskClaim Winner)>();
        var builderKeepers = new List<TaskClaim>();
        foreach (var group in claims.GroupBy(claim => claim.BuilderFullName, System.StringComparer.Ordinal))
        {
            var ordered = group.OrderBy(claim => claim.HintName, System.StringComparer.Ordinal).ToList();
            builderKeepers.Add(ordered[0]);
            lostBuilders.AddRange(ordered.Skip(1).Select(loser => (loser, ordered[0])));
        }

        var sharedTaskNames = builderKeepers
            .GroupBy(claim => claim.TaskName, System.StringComparer.Ordinal)
            .Where(group => group.Count() > 1)
            .Select(group => (IReadOnlyList<TaskClaim>)group.OrderBy(claim => claim.HintName, System.StringComparer.Ordinal).ToList())
            .ToList();
        return new SettledClaims(lostBuilders, sharedTaskNames);
    }
}
