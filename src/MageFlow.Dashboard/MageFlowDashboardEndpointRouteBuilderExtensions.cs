using MageFlow.Dashboard;
using MageFlow.Dashboard.Pages;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow;

/// <summary>Maps the MageFlow dashboard into an ASP.NET Core app.</summary>
public static class MageFlowDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves the dashboard under <paramref name="pattern"/> (e.g. <c>/mageflow</c>) for the app's <see cref="IMageFlow"/>
    /// (<c>services.AddMageFlow(...)</c>). Only local requests are served unless <paramref name="configure"/> sets
    /// <see cref="MageFlowDashboardOptions.AuthorizationPolicy"/> or <see cref="MageFlowDashboardOptions.Authorize"/>.
    /// </summary>
    /// <returns>The dashboard's endpoints, for more conventions (e.g. host filtering).</returns>
    public static IEndpointConventionBuilder MapMageFlowDashboard(
        this IEndpointRouteBuilder endpoints,
        string pattern = "/mageflow",
        Action<MageFlowDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var options = new MageFlowDashboardOptions();
        configure?.Invoke(options);
        if (options.RefreshInterval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(configure), $"MageFlowDashboardOptions.RefreshInterval must be positive, got {options.RefreshInterval}.");
        if (options.MaxSignaturesRead < 1)
            throw new ArgumentOutOfRangeException(nameof(configure), $"MageFlowDashboardOptions.MaxSignaturesRead must be at least 1, got {options.MaxSignaturesRead}.");
        if (endpoints.ServiceProvider.GetService<IMageFlow>() is null)
            throw new InvalidOperationException("MapMageFlowDashboard needs MageFlow's client: call builder.Services.AddMageFlow(...) first.");
        if (!options.ReadOnly && endpoints.ServiceProvider.GetService<IAntiforgery>() is null)
            throw new InvalidOperationException("MapMageFlowDashboard protects its actions with antiforgery tokens: call builder.Services.AddAntiforgery() too.");

        var group = endpoints.MapGroup(pattern);
        if (options.AuthorizationPolicy is { } policy) group.RequireAuthorization(policy);
        group.AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            DashboardAccess.AddSecurityHeaders(context.Response);
            if (!DashboardAccess.IsAllowed(context, options))
            {
                return Results.Text(options.Authorize is null
                    ? "The MageFlow dashboard serves local requests only; see MageFlowDashboardOptions to allow others."
                    : "This request may not see the MageFlow dashboard.", statusCode: StatusCodes.Status403Forbidden);
            }
            return await next(invocation);
        });

        // Every handler states its return type: a lambda taking only an HttpContext would otherwise bind as a plain
        // RequestDelegate, which drops the IResult and skips the endpoint filter above.
        DashboardRequest Request(HttpContext context) => new(context, options, pattern);
        group.MapGet("/", async Task<IResult> (HttpContext context) => DashboardResults.Html(await OverviewPage.RenderAsync(Request(context))));
        group.MapGet("/signatures", async Task<IResult> (HttpContext context) => DashboardResults.Html(await SignatureListPage.RenderAsync(Request(context))));
        group.MapGet("/signatures/{id}", async Task<IResult> (HttpContext context, string id) =>
        {
            var request = Request(context);
            return await SignaturePage.RenderAsync(request, id) is { } page
                ? DashboardResults.Html(page)
                : DashboardResults.SignatureNotFound(request, id);
        });
        group.MapPost("/signatures/{id}/{action}", Task<IResult> (HttpContext context, string id, string action) => DashboardActions.RunAsync(Request(context), id, action));
        group.MapGet("/assets/{name}", IResult (string name) => DashboardAssets.Serve(name));
        return group;
    }
}
