using MageFlow.Dashboard.Pages;
using Microsoft.AspNetCore.Http;

namespace MageFlow.Dashboard;

/// <summary>Answers as HTML pages.</summary>
internal static class DashboardResults
{
    public static IResult Html(string page, int statusCode = StatusCodes.Status200OK) =>
        Results.Content(page, "text/html; charset=utf-8", statusCode: statusCode);

    /// <summary>A page holding one message: errors and refusals.</summary>
    public static IResult Page(int statusCode, DashboardRequest request, string title, string message) =>
        Html(PageLayout.Page(request, title, PageLayout.Notice(message)), statusCode);

    public static IResult SignatureNotFound(DashboardRequest request, string id) =>
        Page(StatusCodes.Status404NotFound, request, "Not found", $"Signature {id} does not exist (never created, expired or deleted).");
}
