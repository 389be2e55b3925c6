namespace MageFlow.Reliability.Tests.Infrastructure;

/// <summary>Checks that a set of signed <c>work</c> tasks all ended Done with their success callback run exactly once.</summary>
public static class Outcome
{
    /// <summary>Waits (bounded) until every task's success callback has run at least once.</summary>
    public static Task WaitForCallbacksAsync(ReliabilityCluster cluster, IReadOnlyCollection<SignedTask> tasks, TimeSpan timeout)
    {
        var ids = tasks.Select(t => t.Id).ToHashSet();
        return cluster.WaitUntilAsync($"the success callbacks of {tasks.Count} tasks have run", timeout,
            async () => (await cluster.MembersAsync("callback-parents")).Count(ids.Contains) == ids.Count,
            async () =>
            {
                var seen = (await cluster.MembersAsync("callback-parents")).Where(ids.Contains).ToHashSet();
                var missing = tasks.Where(t => !seen.Contains(t.Id)).Take(5).ToList();
                var states = new List<string>();
                foreach (var t in missing)
                    states.Add($"{t.Id}: task {(await cluster.StatusAsync(t.Task))?.ToString() ?? "<gone>"}, callback {(await cluster.StatusAsync(t.Callback))?.ToString() ?? "<gone>"}");
                return $"{seen.Count}/{ids.Count} callbacks ran; first missing: {string.Join("; ", states)}.";
            });
    }

    /// <summary>One recorded start of a body: which task, which process, when (from the run id <c>pid:unixMs:random</c>).</summary>
    public sealed record Start(string Id, int Pid, long UnixMs);

    public static async Task<List<Start>> StartsAsync(ReliabilityCluster cluster) =>
        (await cluster.MembersAsync("started")).Select(m =>
        {
            var bar = m.LastIndexOf('|');
            var run = m[(bar + 1)..].Split(':');
            return new Start(m[..bar], int.Parse(run[0]), long.Parse(run[1]));
        }).ToList();

    /// <summary>
    /// Rule 18: a run that nobody crashed is executed once. A body started by a process that was never killed must
    /// not be started again afterwards (by anyone); returns the tasks where that happened.
    /// </summary>
    public static async Task<List<string>> RestartedWithoutACrashAsync(ReliabilityCluster cluster, IReadOnlyCollection<SignedTask> tasks, ISet<int> killedPids)
    {
        var ids = tasks.Select(t => t.Id).ToHashSet();
        var violations = new List<string>();
        foreach (var group in (await StartsAsync(cluster)).Where(s => ids.Contains(s.Id)).GroupBy(s => s.Id))
        {
            var ordered = group.OrderBy(s => s.UnixMs).ToList();
            for (var i = 0; i < ordered.Count - 1; i++)
            {
                if (killedPids.Contains(ordered[i].Pid)) continue;
                violations.Add($"{group.Key}: started by live pid {ordered[i].Pid} at {ordered[i].UnixMs}, then again by pid {ordered[i + 1].Pid} {ordered[i + 1].UnixMs - ordered[i].UnixMs} ms later");
                break;
            }
        }
        return violations;
    }

    /// <summary>
    /// Asserts: every task Done, every success callback Done and run exactly once with the task's result, no error
    /// callback ran. Prints the figures line first, so it is in the output even when an assertion fails.
    /// </summary>
    public static async Task AssertExactlyOnceAsync(ReliabilityCluster cluster, IReadOnlyCollection<SignedTask> tasks, int trials, string? extra = null)
    {
        // A callback body records itself before its own completion transition: give the transitions a bounded
        // time to land (Done is final) rather than reading the statuses at the same instant.
        var notDone = new List<string>();
        var pending = tasks.ToList();
        var settle = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            notDone.Clear();
            var still = new List<SignedTask>();
            foreach (var t in pending)
            {
                var task = await cluster.StatusAsync(t.Task);
                var callback = await cluster.StatusAsync(t.Callback);
                if (task == SignatureStatus.Done && callback == SignatureStatus.Done) continue;
                still.Add(t);
                notDone.Add($"{t.Id}: task {task?.ToString() ?? "<gone>"}, callback {callback?.ToString() ?? "<gone>"}");
            }
            pending = still;
            if (pending.Count == 0 || settle.Elapsed > TimeSpan.FromSeconds(15)) break;
            await Task.Delay(50);
        }
        var callbackRuns = await cluster.RunsPerKeyAsync("callbacks");
        var errorRuns = await cluster.RunsPerKeyAsync("error-callbacks");
        var bodies = await cluster.RunsPerKeyAsync("bodies");
        var starts = await cluster.RunsPerKeyAsync("started");
        var mismatches = await cluster.HashAsync("callback-mismatch");
        var lost = tasks.Where(t => !callbackRuns.ContainsKey(t.Id)).Select(t => t.Id).ToList();
        var duplicated = new List<string>();
        foreach (var t in tasks.Where(t => callbackRuns.GetValueOrDefault(t.Id) > 1))
        {
            // Attempts > 1: the one dispatched callback run was delivered again (re-run after a lost transition);
            // attempts = 1 with several body runs would mean a second dispatch.
            var stored = await cluster.Mage.GetSignatureAsync(t.Callback.Id);
            var attempts = stored is null ? "<gone>" : (await stored.GetInfoAsync()).Attempts.ToString();
            duplicated.Add($"{t.Id}: callback body ran {callbackRuns[t.Id]}×, callback signature attempts={attempts}");
        }
        var rerun = tasks.Count(t => bodies.GetValueOrDefault(t.Id) > 1);
        var restarted = tasks.Count(t => starts.GetValueOrDefault(t.Id) > 1);
        var errors = tasks.Where(t => errorRuns.ContainsKey(t.Id)).Select(t => t.Id).ToList();
        cluster.Log(Figures.Line(trials, tasks.Count, lost.Count, duplicated.Count,
            $"bodiesStartedMoreThanOnce={restarted} bodiesFinishedMoreThanOnce={rerun} errorCallbacks={errors.Count}{(extra is null ? "" : " " + extra)}"));

        Assert.True(lost.Count == 0, $"{lost.Count} of {tasks.Count} success callbacks never ran (lost): {string.Join(", ", lost.Take(10))}");
        Assert.True(duplicated.Count == 0, $"{duplicated.Count} success callbacks ran more than once (callback dispatch must be exactly once): {string.Join(", ", duplicated.Take(10))}");
        Assert.True(notDone.Count == 0, $"{notDone.Count} tasks or callbacks are not Done: {string.Join("; ", notDone.Take(10))}");
        Assert.True(errors.Count == 0, $"error callbacks ran for tasks that succeeded: {string.Join(", ", errors.Take(10))}");
        Assert.True(mismatches.Count == 0, $"success callbacks received a wrong result: {string.Join(", ", mismatches.Take(10))}");
    }
}
