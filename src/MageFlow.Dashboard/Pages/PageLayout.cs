using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MageFlow.Dashboard.Rendering;

namespace MageFlow.Dashboard.Pages;

/// <summary>The page shell and the small pieces every page shows the same way.</summary>
internal static class PageLayout
{
    /// <summary>
    /// A whole page. Only <c>main#live</c> is replaced by the refresh script, so the navigation and anything the user
    /// is typing into outside it stay put.
    /// </summary>
    public static string Page(DashboardRequest request, string title, HtmlFragment live)
    {
        var html = new HtmlWriter();
        var root = request.Root;
        var refreshMs = (int)request.Options.RefreshInterval.TotalMilliseconds;
        html.Write($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · MageFlow</title>
            <link rel="stylesheet" href="{root}/assets/dashboard.css">
            <script src="{root}/assets/dashboard.js" defer></script>
            </head>
            <body>
            <header>
            <a class="brand" href="{root}/">MageFlow</a>
            <nav><a href="{root}/">Overview</a><a href="{root}/signatures">Signatures</a></nav>
            {(request.Options.ReadOnly ? ReadOnlyBadge : HtmlFragment.Empty)}
            </header>
            <main id="live" data-refresh-ms="{refreshMs}">
            <h1>{title}</h1>
            {live}
            </main>
            </body>
            </html>
            """);
        return html.ToString();
    }

    /// <summary>Stands for a value that is not there.</summary>
    public static HtmlFragment Nothing { get; } = new("—");

    private static readonly HtmlFragment ReadOnlyBadge = new("""<span class="read-only">read-only</span>""");

    public static HtmlFragment Status(SignatureStatus status)
    {
        var html = new HtmlWriter();
        html.Write($"""<span class="status status-{status.ToString().ToLowerInvariant()}">{status}</span>""");
        return html.ToFragment();
    }

    public static HtmlFragment SignatureLink(DashboardRequest request, string id)
    {
        var html = new HtmlWriter();
        html.Write($"""<a class="id" href="{request.SignatureUrl(id)}">{id}</a>""");
        return html.ToFragment();
    }

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "—";

    /// <summary>What a signature stands for: a chain and a swarm hold other signatures.</summary>
    public static string Kind(SignatureInfo info) =>
        info.Swarm is not null ? "swarm" : info.StepIds.Count > 0 ? "chain" : "task";

    /// <summary>Indented JSON, with no escaping beyond JSON's own: the page encodes it as text, so it reads as stored.</summary>
    public static string Json(JsonElement element)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            element.WriteTo(writer);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static HtmlFragment Notice(string text)
    {
        var html = new HtmlWriter();
        html.Write($"""<p class="notice">{text}</p>""");
        return html.ToFragment();
    }
}
