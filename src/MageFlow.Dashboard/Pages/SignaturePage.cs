using MageFlow.Dashboard.Rendering;

namespace MageFlow.Dashboard.Pages;

/// <summary>One signature: what is stored about it, its callbacks, its chain's steps or its swarm's items, and the actions.</summary>
internal static class SignaturePage
{
    public static async Task<string?> RenderAsync(DashboardRequest request, string id)
    {
        if (await request.Mage.GetSignatureInfoAsync(id, request.Aborted) is not { } info) return null;

        var html = new HtmlWriter();
        html.Write($"""
            <dl class="facts">
            <dt>Id</dt><dd id="signature-id">{info.Id}</dd>
            <dt>Task</dt><dd>{info.TaskName}</dd>
            <dt>Kind</dt><dd>{PageLayout.Kind(info)}</dd>
            <dt>Status</dt><dd id="signature-status">{PageLayout.Status(info.Status)}</dd>
            <dt>Last status</dt><dd>{PageLayout.Status(info.LastStatus)}</dd>
            <dt>Attempts</dt><dd>{info.Attempts}</dd>
            <dt>Created</dt><dd>{PageLayout.Time(info.CreatedAt)}</dd>
            <dt>Started</dt><dd>{PageLayout.Time(info.StartedAt)}</dd>
            <dt>Finished</dt><dd>{PageLayout.Time(info.FinishedAt)}</dd>
            <dt>Parked runs</dt><dd>{info.ParkedRuns}</dd>
            <dt>Saved outcome</dt><dd>{(info.HasSavedOutcome ? "yes: resume applies it" : "no")}</dd>
            <dt>Return field</dt><dd>{info.ReturnField}</dd>
            <dt>Part of</dt><dd>{(info.ParentId is { } parent ? PageLayout.SignatureLink(request, parent) : PageLayout.Nothing)}</dd>
            </dl>
            """);
        WriteActions(html, request, info);
        if (info.Swarm is { } swarm) await WriteSwarmAsync(html, request, info, swarm);
        else if (info.StepIds.Count > 0) await WriteChainAsync(html, request, info);

        if (info.Failure is { } failure)
        {
            html.Write($"""
                <section><h2>Failure</h2><dl class="facts"><dt>Kind</dt><dd>{failure.Kind}</dd><dt>Failed signature</dt><dd>{(failure.SignatureId == info.Id ? HtmlFragment.FromText("this one") : PageLayout.SignatureLink(request, failure.SignatureId))}</dd></dl>
                <pre class="error" id="failure">{failure.Error}</pre></section>
                """);
        }
        if (info.FailedInput is { } failedInput)
            html.Write($"""<section><h2>Input of the failed run</h2><pre class="json" id="failed-input">{PageLayout.Json(failedInput)}</pre></section>""");
        html.Write($"""<section><h2>Kwargs</h2><pre class="json" id="kwargs">{PageLayout.Json(info.Kwargs)}</pre></section>""");
        await WriteCallbacksAsync(html, request, "Success callbacks", info.SuccessCallbackIds);
        await WriteCallbacksAsync(html, request, "Error callbacks", info.ErrorCallbackIds);
        html.Write($"""<p class="hint">MageFlow stores a run's input only when the run failed, and its result only for a caller waiting on it; otherwise they are not shown.</p>""");
        var kind = PageLayout.Kind(info);
        var title = kind == "task" ? info.TaskName : $"{kind} {info.Id}";
        return PageLayout.Page(request, title, html.ToFragment());
    }

    /// <summary>Only the actions the runtime accepts in this status (contract §5); none in read-only mode.</summary>
    private static void WriteActions(HtmlWriter html, DashboardRequest request, SignatureInfo info)
    {
        if (request.Options.ReadOnly) return;
        var actions = ActionsFor(info);
        if (actions.Count == 0) return;
        html.Write($"""<div class="actions">""");
        foreach (var action in actions)
        {
            html.Write($"""
                <form method="post" action="{request.ActionUrl(info.Id, action)}"><input type="hidden" name="{request.Tokens.FormFieldName}" value="{request.Tokens.RequestToken}"><button type="submit" class="action action-{action.ToString().ToLowerInvariant()}" id="action-{action.ToString().ToLowerInvariant()}">{action}</button></form>
                """);
        }
        html.Write($"</div>");
    }

    public static IReadOnlyList<DashboardAction> ActionsFor(SignatureInfo info) => info.Status switch
    {
        SignatureStatus.Pending or SignatureStatus.Active => [DashboardAction.Suspend, DashboardAction.Interrupt, DashboardAction.Cancel],
        SignatureStatus.Suspended => [DashboardAction.Resume, DashboardAction.Interrupt, DashboardAction.Cancel],
        SignatureStatus.Interrupted => [DashboardAction.Resume, DashboardAction.Cancel],
        SignatureStatus.Failed when info.CanRetry => [DashboardAction.Retry],
        _ => [],
    };

    private static async Task WriteCallbacksAsync(HtmlWriter html, DashboardRequest request, string title, IReadOnlyList<string> ids)
    {
        if (ids.Count == 0) return;
        html.Write($"""<section><h2>{title}</h2>""");
        await WriteSignatureListAsync(html, request, ids, "ul");
        html.Write($"</section>");
    }

    private static async Task WriteChainAsync(HtmlWriter html, DashboardRequest request, SignatureInfo chain)
    {
        html.Write($"""<section class="structure"><h2>Steps</h2>""");
        await WriteSignatureListAsync(html, request, chain.StepIds, "ol");
        html.Write($"</section>");
    }

    /// <summary>Each id with its task and status, in the given order; an id no longer stored says so.</summary>
    private static async Task WriteSignatureListAsync(HtmlWriter html, DashboardRequest request, IReadOnlyList<string> ids, string listElement)
    {
        html.Write($"""<{new HtmlFragment(listElement)} class="signature-list">""");
        foreach (var id in ids)
        {
            var info = await request.Mage.GetSignatureInfoAsync(id, request.Aborted);
            if (info is null) html.Write($"""<li>{PageLayout.SignatureLink(request, id)} <span class="gone">no longer stored</span></li>""");
            else html.Write($"""<li>{PageLayout.SignatureLink(request, id)} {info.TaskName} {PageLayout.Status(info.Status)}</li>""");
        }
        html.Write($"</{new HtmlFragment(listElement)}>");
    }

    private static async Task WriteSwarmAsync(HtmlWriter html, DashboardRequest request, SignatureInfo info, SwarmProgress swarm)
    {
        var waiting = swarm.Added - swarm.Running - swarm.Succeeded - swarm.Failed;
        html.Write($"""
            <section class="structure"><h2>Items</h2>
            <dl class="facts swarm">
            <dt>Running</dt><dd id="swarm-running">{swarm.Running} of at most {swarm.Options.MaxConcurrency} <meter min="0" max="{swarm.Options.MaxConcurrency}" value="{swarm.Running}"></meter></dd>
            <dt>Done</dt><dd id="swarm-done">{swarm.Succeeded}</dd>
            <dt>Failed</dt><dd id="swarm-failed">{swarm.Failed}{(swarm.Options.StopAfterFailures is { } stop ? $" (stops at {stop})" : "")}</dd>
            <dt>Waiting</dt><dd>{waiting}</dd>
            <dt>Added</dt><dd>{swarm.Added}{(swarm.Options.MaxTasks is { } max ? $" of at most {max}" : "")}</dd>
            <dt>Started</dt><dd>{(swarm.Started ? "yes" : "no")}</dd>
            <dt>Closed</dt><dd>{(swarm.Closed ? "yes" : "no: it completes only once closed")}</dd>
            </dl>
            """);
        // Items name their swarm, not the other way round: find them among the stored signatures, in the order added.
        var items = (await request.ReadSignaturesAsync()).Signatures
            .Where(s => s.ParentId == info.Id)
            .OrderBy(s => s.CreatedAt)
            .ToList();
        html.Write($"""<table class="signatures items"><thead><tr><th>Id</th><th>Task</th><th>Status</th><th>Attempts</th><th>Error</th></tr></thead><tbody>""");
        foreach (var item in items)
        {
            html.Write($"""<tr data-status="{item.Status}"><td>{PageLayout.SignatureLink(request, item.Id)}</td><td>{item.TaskName}</td><td>{PageLayout.Status(item.Status)}</td><td>{item.Attempts}</td><td class="error" title="{item.Failure?.Error}">{item.Failure?.Error}</td></tr>""");
        }
        html.Write($"</tbody></table></section>");
    }
}
