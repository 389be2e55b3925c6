using MageFlow.Dashboard.Rendering;

namespace MageFlow.Dashboard.Pages;

/// <summary>Counts by status and by task, and what finished in each of the last minutes.</summary>
internal static class OverviewPage
{
    /// <summary>Finished signatures are kept only for the done TTL (5 minutes by default), so a longer window would mislead.</summary>
    private const int MinutesShown = 10;

    public static async Task<string> RenderAsync(DashboardRequest request)
    {
        var snapshot = await request.ReadSignaturesAsync();
        var signatures = snapshot.Signatures;
        var html = new HtmlWriter();
        if (snapshot.Truncated)
            html.Write($"{PageLayout.Notice($"The store holds more than {signatures.Count} signatures; these counts cover the first {signatures.Count} read.")}");

        html.Write($"""<section><h2>By status</h2><div class="cards">""");
        foreach (var status in Enum.GetValues<SignatureStatus>())
        {
            var count = signatures.Count(s => s.Status == status);
            html.Write($"""<a class="card card-{status.ToString().ToLowerInvariant()}" href="{request.ListUrl(status)}"><span class="count">{count}</span>{PageLayout.Status(status)}</a>""");
        }
        html.Write($"""<a class="card" href="{request.ListUrl()}"><span class="count">{signatures.Count}</span>all</a></div></section>""");

        html.Write($"""<section><h2>By task</h2><table class="by-task"><thead><tr><th>Task</th>""");
        foreach (var status in Enum.GetValues<SignatureStatus>()) html.Write($"<th>{status}</th>");
        html.Write($"<th>All</th></tr></thead><tbody>");
        foreach (var task in signatures.GroupBy(s => s.TaskName).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            html.Write($"""<tr><td><a href="{request.ListUrl(taskName: task.Key)}">{task.Key}</a></td>""");
            foreach (var status in Enum.GetValues<SignatureStatus>())
            {
                var count = task.Count(s => s.Status == status);
                if (count == 0) html.Write($"<td class=\"zero\">0</td>");
                else html.Write($"""<td><a href="{request.ListUrl(status, task.Key)}">{count}</a></td>""");
            }
            html.Write($"<td>{task.Count()}</td></tr>");
        }
        html.Write($"</tbody></table></section>");

        WriteThroughput(html, signatures, snapshot.ReadAt);
        return PageLayout.Page(request, "Overview", html.ToFragment());
    }

    /// <summary>Done and Failed per minute, newest first, from the finish times of the signatures still stored.</summary>
    private static void WriteThroughput(HtmlWriter html, IReadOnlyList<SignatureInfo> signatures, DateTimeOffset now)
    {
        var thisMinute = TruncateToMinute(now);
        var minutes = Enumerable.Range(0, MinutesShown).Select(ago => thisMinute.AddMinutes(-ago)).ToArray();
        var finished = signatures
            .Where(s => s.FinishedAt is not null && s.Status is SignatureStatus.Done or SignatureStatus.Failed)
            .ToLookup(s => (Minute: TruncateToMinute(s.FinishedAt!.Value), s.Status));
        var busiest = Math.Max(1, minutes.Max(m => finished[(m, SignatureStatus.Done)].Count() + finished[(m, SignatureStatus.Failed)].Count()));

        html.Write($"""
            <section><h2>Last {MinutesShown} minutes</h2>
            <p class="hint">Finished signatures are kept for the done TTL (MageFlowOptions.DoneTtl), so older minutes may look empty.</p>
            <table class="throughput"><thead><tr><th>Minute (UTC)</th><th>Done</th><th>Failed</th><th></th></tr></thead><tbody>
            """);
        foreach (var minute in minutes)
        {
            var done = finished[(minute, SignatureStatus.Done)].Count();
            var failed = finished[(minute, SignatureStatus.Failed)].Count();
            html.Write($"""<tr><td>{minute.UtcDateTime:HH:mm}</td><td>{done}</td><td class="{(failed > 0 ? "failures" : "zero")}">{failed}</td><td><meter min="0" max="{busiest}" value="{done + failed}"></meter></td></tr>""");
        }
        html.Write($"</tbody></table></section>");
    }

    private static DateTimeOffset TruncateToMinute(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero);
    }
}
