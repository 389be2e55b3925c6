using MageFlow.Dashboard.Rendering;
using Microsoft.AspNetCore.Http;

namespace MageFlow.Dashboard.Pages;

/// <summary>The stored signatures, newest first, filtered by status and task.</summary>
internal static class SignatureListPage
{
    /// <summary>A page longer than this is unreadable anyway; the filter narrows it.</summary>
    private const int RowsShown = 500;

    public static async Task<string> RenderAsync(DashboardRequest request)
    {
        var query = request.Context.Request.Query;
        var status = DashboardRequest.TryParseName<SignatureStatus>(query["status"], out var parsed) ? parsed : (SignatureStatus?)null;
        var taskName = query["task"] is { Count: > 0 } task && !string.IsNullOrEmpty(task[0]) ? task[0] : null;

        var all = await request.ReadSignaturesAsync();
        var matching = all.Signatures
            .Where(s => (status is null || s.Status == status) && (taskName is null || s.TaskName == taskName))
            .OrderByDescending(s => s.CreatedAt)
            .ToList();

        var html = new HtmlWriter();
        WriteFilter(html, request, all.Signatures, status, taskName);
        if (all.Truncated) html.Write($"{PageLayout.Notice($"The store holds more than {all.Signatures.Count} signatures; only the first {all.Signatures.Count} read are listed.")}");
        html.Write($"""<p class="summary"><span id="match-count">{matching.Count}</span> matching</p>""");
        if (matching.Count > RowsShown) html.Write($"{PageLayout.Notice($"Showing the newest {RowsShown}; filter to see the others.")}");

        html.Write($"""<table class="signatures"><thead><tr><th>Id</th><th>Task</th><th>Kind</th><th>Status</th><th>Attempts</th><th>Created</th><th>Finished</th><th>Error</th></tr></thead><tbody>""");
        foreach (var info in matching.Take(RowsShown))
        {
            html.Write($"""
                <tr data-status="{info.Status}"><td>{PageLayout.SignatureLink(request, info.Id)}</td><td>{info.TaskName}</td><td>{PageLayout.Kind(info)}</td>
                <td>{PageLayout.Status(info.Status)}</td><td>{info.Attempts}</td><td class="time">{PageLayout.Time(info.CreatedAt)}</td><td class="time">{PageLayout.Time(info.FinishedAt)}</td>
                <td class="error" title="{info.Failure?.Error}">{info.Failure?.Error}</td></tr>
                """);
        }
        html.Write($"</tbody></table>");
        return PageLayout.Page(request, "Signatures", html.ToFragment());
    }

    /// <summary>A plain GET form: the filter works without the script, and its URL can be shared.</summary>
    private static void WriteFilter(HtmlWriter html, DashboardRequest request, IReadOnlyList<SignatureInfo> signatures, SignatureStatus? status, string? taskName)
    {
        html.Write($"""<form class="filter" method="get" action="{request.Root}/signatures"><label>Status <select name="status" id="filter-status"><option value="">any</option>""");
        foreach (var option in Enum.GetValues<SignatureStatus>())
            html.Write($"""<option value="{option}"{Selected(option == status)}>{option}</option>""");
        html.Write($"""</select></label><label>Task <select name="task" id="filter-task"><option value="">any</option>""");
        var taskNames = signatures.Select(s => s.TaskName).Concat(request.Mage.Tasks.Tasks.Select(t => t.Name));
        if (taskName is not null) taskNames = taskNames.Append(taskName);
        foreach (var option in taskNames.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            html.Write($"""<option value="{option}"{Selected(option == taskName)}>{option}</option>""");
        html.Write($"""</select></label><button type="submit" id="filter-apply">Filter</button></form>""");
    }

    private static HtmlFragment Selected(bool selected) => selected ? new(" selected") : HtmlFragment.Empty;
}
