using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace MageFlow.Dashboard.Tests;

/// <summary>What the HTTP tests read from pages and send back.</summary>
internal static partial class DashboardPageHelpers
{
    public static async Task<HttpResponseMessage> GetAsync(this DashboardApp app, string path, string? remoteAddress = null, Action<HttpRequestMessage>? prepare = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, DashboardApp.Root + path);
        if (remoteAddress is not null) request.Headers.Add(DashboardApp.RemoteAddressHeader, remoteAddress);
        prepare?.Invoke(request);
        return await app.Client.SendAsync(request);
    }

    public static async Task<string> GetPageAsync(this DashboardApp app, string path)
    {
        using var response = await app.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The antiforgery pair a browser would hold after loading a signature's page: its cookie and its form token.</summary>
    public static async Task<AntiforgeryPair> ReadAntiforgeryAsync(this DashboardApp app, string signatureId)
    {
        using var response = await app.GetAsync($"/signatures/{signatureId}");
        var page = await response.Content.ReadAsStringAsync();
        var token = FormTokenPattern().Match(page);
        Assert.True(token.Success, "The signature page has no antiforgery field.");
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));
        return new AntiforgeryPair(cookie[..cookie.IndexOf(';', StringComparison.Ordinal)], token.Groups["name"].Value, token.Groups["value"].Value);
    }

    public static async Task<HttpResponseMessage> PostActionAsync(this DashboardApp app, string signatureId, string action, AntiforgeryPair? antiforgery, string? remoteAddress = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{DashboardApp.Root}/signatures/{signatureId}/{action}");
        var fields = new Dictionary<string, string>();
        if (antiforgery is not null)
        {
            request.Headers.Add("Cookie", antiforgery.Cookie);
            fields[antiforgery.FieldName] = antiforgery.Token;
        }
        if (remoteAddress is not null) request.Headers.Add(DashboardApp.RemoteAddressHeader, remoteAddress);
        request.Content = new FormUrlEncodedContent(fields);
        return await app.Client.SendAsync(request);
    }

    /// <summary>The number on an overview card, e.g. how many signatures are Failed.</summary>
    public static int CardCount(string overview, SignatureStatus status)
    {
        var match = Regex.Match(overview, $"""class="card card-{status.ToString().ToLowerInvariant()}"[^>]*><span class="count">(\d+)</span>""");
        Assert.True(match.Success, $"The overview has no {status} card.");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The statuses of the rows of a signature table, in order.</summary>
    public static IReadOnlyList<string> RowStatuses(string page) =>
        RowPattern().Matches(page).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The overview's per-minute rows, newest first.</summary>
    public static IReadOnlyList<(int Done, int Failed)> ThroughputRows(string overview) =>
        ThroughputPattern().Matches(overview)
            .Select(m => (int.Parse(m.Groups["done"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["failed"].Value, CultureInfo.InvariantCulture)))
            .ToList();

    [GeneratedRegex("""<tr><td>\d\d:\d\d</td><td>(?<done>\d+)</td><td class="\w+">(?<failed>\d+)</td>""")]
    private static partial Regex ThroughputPattern();

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]+)">""")]
    private static partial Regex FormTokenPattern();

    [GeneratedRegex("""<tr data-status="(\w+)">""")]
    private static partial Regex RowPattern();
}

internal sealed record AntiforgeryPair(string Cookie, string FieldName, string Token);
