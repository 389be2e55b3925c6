using Microsoft.AspNetCore.Http;

namespace MageFlow;

/// <summary>
/// Options of <see cref="MageFlowDashboardEndpointRouteBuilderExtensions.MapMageFlowDashboard"/>. With neither
/// <see cref="AuthorizationPolicy"/> nor <see cref="Authorize"/> set, only local requests are served (as Hangfire's
/// dashboard does); setting either replaces that rule.
/// </summary>
public sealed class MageFlowDashboardOptions
{
    /// <summary>The name of an ASP.NET Core authorization policy every dashboard request must satisfy.</summary>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>Decides for each request whether it may see the dashboard (false answers 403).</summary>
    public Func<HttpContext, bool>? Authorize { get; set; }

    /// <summary>Shows everything and changes nothing: no action buttons, and every action request answers 403.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>How often an open page reloads its data (default 2 s).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// At most this many signatures are read for a page (default 5,000): on Redis the read side scans the key space,
    /// so the counts cover this many at most and say so when the store holds more.
    /// </summary>
    public int MaxSignaturesRead { get; set; } = 5000;
}
