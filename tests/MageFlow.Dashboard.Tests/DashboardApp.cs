using System.Net;
using MageFlow.Samples.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MageFlow.Dashboard.Tests;

/// <summary>
/// A web app like the sample's: in-memory MageFlow with a worker, the sample's data seeded and settled, and the
/// dashboard at <see cref="Root"/>. In-process (TestServer) for HTTP tests, or on Kestrel for the browser.
/// </summary>
public sealed class DashboardApp : IAsyncDisposable
{
    public const string Root = "/mageflow";

    /// <summary>The TestServer has no remote address: a test names the one its request comes from (loopback when absent).</summary>
    public const string RemoteAddressHeader = "X-Test-Remote-Address";

    private readonly WebApplication _app;

    private DashboardApp(WebApplication app, HttpClient client, SampleData seeded)
    {
        _app = app;
        Client = client;
        Seeded = seeded;
    }

    public HttpClient Client { get; }

    public SampleData Seeded { get; }

    public IMageFlow Mage => _app.Services.GetRequiredService<IMageFlow>();

    /// <summary>The Kestrel address (http://127.0.0.1:port), for the browser.</summary>
    public string BaseAddress => Client.BaseAddress!.ToString().TrimEnd('/');

    public static async Task<DashboardApp> StartAsync(
        bool onKestrel = false,
        Action<MageFlowDashboardOptions>? configure = null,
        Action<IServiceCollection>? addServices = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        if (onKestrel) builder.WebHost.UseUrls("http://127.0.0.1:0");
        else builder.WebHost.UseTestServer();
        builder.Services.AddMageFlow(o => o.DoneTtl = TimeSpan.FromHours(1));
        builder.Services.AddMageFlowTasksFrom<SampleData>();
        builder.Services.AddMageFlowWorker(o => o.RetryDelay = TimeSpan.FromMilliseconds(50));
        builder.Services.AddAntiforgery();
        // The sample's build-report runs for an hour: stopping hands it back at once instead of waiting 30 s for it.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        addServices?.Invoke(builder.Services);

        var app = builder.Build();
        if (!onKestrel)
        {
            app.Use((context, next) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(context.Request.Headers[RemoteAddressHeader].FirstOrDefault() ?? "127.0.0.1");
                return next(context);
            });
        }
        app.MapMageFlowDashboard(Root, configure);
        await app.StartAsync();

        var client = onKestrel
            ? new HttpClient { BaseAddress = new Uri(app.Urls.Single()) }
            : app.GetTestClient();
        var mage = app.Services.GetRequiredService<IMageFlow>();
        var seeded = await SampleData.SeedAsync(mage);
        var settled = new DashboardApp(app, client, seeded);
        await settled.WaitForStatusesAsync(ExpectedStatuses(seeded));
        return settled;
    }

    /// <summary>Where the sample's data settles once the worker is done with it.</summary>
    public static IReadOnlyDictionary<string, SignatureStatus> ExpectedStatuses(SampleData seeded) => new Dictionary<string, SignatureStatus>
    {
        [seeded.Greeting] = SignatureStatus.Done,
        [seeded.Charge] = SignatureStatus.Done,
        [seeded.DeclinedCharge] = SignatureStatus.Failed,
        [seeded.SuspendedGreeting] = SignatureStatus.Suspended,
        [seeded.Report] = SignatureStatus.Active,
        [seeded.Fulfilment] = SignatureStatus.Done,
        [seeded.OversizedFulfilment] = SignatureStatus.Failed,
        [seeded.Thumbnails] = SignatureStatus.Done,
    };

    public async Task WaitForStatusesAsync(IReadOnlyDictionary<string, SignatureStatus> expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var wrong = new List<string>();
            foreach (var (id, status) in expected)
            {
                var info = await Mage.GetSignatureInfoAsync(id);
                if (info?.Status != status) wrong.Add($"{id} is {info?.Status.ToString() ?? "gone"}, expected {status}");
            }
            if (wrong.Count == 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The seeded data did not settle: {string.Join("; ", wrong)}");
            await Task.Delay(50);
        }
    }

    public Task WaitForStatusAsync(string id, SignatureStatus status) =>
        WaitForStatusesAsync(new Dictionary<string, SignatureStatus> { [id] = status });

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
