using System.Net;
using Microsoft.AspNetCore.Http;

namespace MageFlow.Dashboard;

/// <summary>Who may see the dashboard, and the headers every answer carries.</summary>
internal static class DashboardAccess
{
    /// <summary>
    /// Scripts and styles come from the package only, nothing inline: even markup that slipped past the encoder could
    /// not run a script.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static bool IsAllowed(HttpContext context, MageFlowDashboardOptions options)
    {
        if (options.Authorize is { } authorize) return authorize(context);
        // A policy, when set, is enforced by the authorization middleware before the request gets here.
        return options.AuthorizationPolicy is not null || IsLocal(context.Connection);
    }

    /// <summary>From this machine: a loopback address, or the connection's own local address.</summary>
    public static bool IsLocal(ConnectionInfo connection) =>
        connection.RemoteIpAddress is { } remote
        && (IPAddress.IsLoopback(remote) || remote.Equals(connection.LocalIpAddress));

    public static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
    }
}
