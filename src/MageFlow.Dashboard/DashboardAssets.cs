using Microsoft.AspNetCore.Http;

namespace MageFlow.Dashboard;

/// <summary>The stylesheet and the refresh script, embedded in the assembly: nothing is fetched from elsewhere.</summary>
internal static class DashboardAssets
{
    private static readonly Dictionary<string, (byte[] Content, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["dashboard.css"] = (Read("dashboard.css"), "text/css; charset=utf-8"),
        ["dashboard.js"] = (Read("dashboard.js"), "text/javascript; charset=utf-8"),
    };

    public static IResult Serve(string name) =>
        Assets.TryGetValue(name, out var asset) ? Results.Bytes(asset.Content, asset.ContentType) : Results.NotFound();

    private static byte[] Read(string name)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream($"MageFlow.Dashboard.Assets.{name}")
                           ?? throw new InvalidOperationException($"The dashboard asset {name} is not embedded in {typeof(DashboardAssets).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
