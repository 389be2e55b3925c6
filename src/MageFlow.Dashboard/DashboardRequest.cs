using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MageFlow.Dashboard;

/// <summary>One request to the dashboard: the client, the options and where the dashboard's pages live.</summary>
internal sealed class DashboardRequest(HttpContext context, MageFlowDashboardOptions options, string pattern)
{
    private AntiforgeryTokenSet? _tokens;

    public HttpContext Context { get; } = context;

    public MageFlowDashboardOptions Options { get; } = options;

    public IMageFlow Mage { get; } = context.RequestServices.GetRequiredService<IMageFlow>();

    public CancellationToken Aborted => Context.RequestAborted;

    /// <summary>The dashboard's root URL path, with the app's path base.</summary>
    public string Root { get; } = context.Request.PathBase.Add(new PathString(pattern.TrimEnd('/'))).Value ?? "";

    public string SignatureUrl(string id) => $"{Root}/signatures/{Uri.EscapeDataString(id)}";

    public string ActionUrl(string id, DashboardAction action) => $"{SignatureUrl(id)}/{action.ToString().ToLowerInvariant()}";

    public string ListUrl(SignatureStatus? status = null, string? taskName = null)
    {
        var query = QueryString.Empty;
        if (status is { } s) query = query.Add("status", s.ToString());
        if (taskName is not null) query = query.Add("task", taskName);
        return $"{Root}/signatures{query}";
    }

    /// <summary>The antiforgery field every action form carries (one token set per request).</summary>
    public AntiforgeryTokenSet Tokens => _tokens ??= Context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(Context);

    /// <summary>An enum member by its name only: Enum.TryParse would also take "1" and run the member numbered 1.</summary>
    public static bool TryParseName<TEnum>(string? name, out TEnum value) where TEnum : struct, Enum
    {
        value = default;
        return Enum.GetNames<TEnum>().Contains(name, StringComparer.OrdinalIgnoreCase) && Enum.TryParse(name, ignoreCase: true, out value);
    }

    /// <summary>Reads up to <see cref="MageFlowDashboardOptions.MaxSignaturesRead"/> signatures.</summary>
    public async Task<SignatureSnapshot> ReadSignaturesAsync(SignatureQuery? query = null)
    {
        var limit = Options.MaxSignaturesRead;
        var read = new List<SignatureInfo>();
        await foreach (var info in Mage.ListSignaturesAsync((query ?? new SignatureQuery()) with { Limit = limit + 1 }, Aborted))
            read.Add(info);
        var truncated = read.Count > limit;
        if (truncated) read.RemoveAt(read.Count - 1);
        return new SignatureSnapshot(read, truncated, DateTimeOffset.UtcNow);
    }
}

/// <summary>Signatures read at <paramref name="ReadAt"/>; <paramref name="Truncated"/> when the store held more than were read.</summary>
internal sealed record SignatureSnapshot(IReadOnlyList<SignatureInfo> Signatures, bool Truncated, DateTimeOffset ReadAt);

/// <summary>The lifecycle operations the dashboard offers (contract §5), and retrying a failed task.</summary>
internal enum DashboardAction
{
    Suspend,
    Interrupt,
    Resume,
    Cancel,
    Retry,
}
