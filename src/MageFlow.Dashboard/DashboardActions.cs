using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Dashboard;

/// <summary>The POST side: a lifecycle action on one signature, then back to its page.</summary>
internal static class DashboardActions
{
    public static async Task<IResult> RunAsync(DashboardRequest request, string id, string actionName)
    {
        if (request.Options.ReadOnly) return DashboardResults.Page(StatusCodes.Status403Forbidden, request, "Read-only", "This dashboard is read-only: it changes nothing.");
        if (!DashboardRequest.TryParseName<DashboardAction>(actionName, out var action))
            return DashboardResults.Page(StatusCodes.Status404NotFound, request, "No such action", $"'{actionName}' is not an action; the actions are {string.Join(", ", Enum.GetNames<DashboardAction>())}.");

        try
        {
            await request.Context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(request.Context);
        }
        catch (AntiforgeryValidationException)
        {
            return DashboardResults.Page(StatusCodes.Status400BadRequest, request, "Refused", "The form's antiforgery token is missing or invalid: reload the page and try again.");
        }

        if (await request.Mage.GetSignatureAsync(id, request.Aborted) is not { } signature)
            return DashboardResults.SignatureNotFound(request, id);
        try
        {
            await (action switch
            {
                DashboardAction.Suspend => signature.SuspendAsync(request.Aborted),
                DashboardAction.Interrupt => signature.InterruptAsync(request.Aborted),
                DashboardAction.Resume => signature.ResumeAsync(request.Aborted),
                DashboardAction.Retry => signature.RetryAsync(request.Aborted),
                DashboardAction.Cancel => signature.CancelAsync(request.Aborted),
                // An action added to the enum but not here must never fall through to another one (say, cancel).
                _ => throw new System.Diagnostics.UnreachableException($"The dashboard action {action} has no operation."),
            });
        }
        catch (InvalidOperationException ex)
        {
            // Finished meanwhile (contract §5), or not a failed task on its own (retry): say why, nothing changed.
            return DashboardResults.Page(StatusCodes.Status409Conflict, request, $"{action} refused", ex.Message);
        }
        // Post/redirect/get: a reload shows the page again instead of repeating the action.
        return Results.Redirect(request.SignatureUrl(id), permanent: false, preserveMethod: false);
    }
}
