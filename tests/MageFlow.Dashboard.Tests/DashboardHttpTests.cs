using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using MageFlow.Samples.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MageFlow.Dashboard.Tests;

/// <summary>One app with the default options, shared by the tests that read it or change signatures of their own.</summary>
public sealed class DefaultDashboard : IAsyncLifetime
{
    public DashboardApp App { get; private set; } = null!;

    public async Task InitializeAsync() => App = await DashboardApp.StartAsync();

    public async Task DisposeAsync() => await App.DisposeAsync();
}

public sealed class DashboardHttpTests(DefaultDashboard dashboard) : IClassFixture<DefaultDashboard>
{
    private DashboardApp App => dashboard.App;

    [Fact]
    public async Task The_overview_counts_the_seeded_signatures_by_status_and_task()
    {
        var overview = await App.GetPageAsync("/");

        // Failed: the declined charge, the oversized chain and its reserve-stock step, the corrupt image.
        Assert.Equal(4, DashboardPageHelpers.CardCount(overview, SignatureStatus.Failed));
        Assert.Equal(1, DashboardPageHelpers.CardCount(overview, SignatureStatus.Suspended));
        Assert.Equal(1, DashboardPageHelpers.CardCount(overview, SignatureStatus.Active));
        Assert.Contains("""<a href="/mageflow/signatures?status=Failed&amp;task=charge-card">1</a>""", overview);
        // Everything finished within the last ten minutes, so the minutes add up to the Done and Failed counts.
        var minutes = DashboardPageHelpers.ThroughputRows(overview);
        Assert.Equal(10, minutes.Count);
        Assert.Equal(DashboardPageHelpers.CardCount(overview, SignatureStatus.Done), minutes.Sum(m => m.Done));
        Assert.Equal(4, minutes.Sum(m => m.Failed));
    }

    [Fact]
    public async Task The_list_is_narrowed_by_status_and_task()
    {
        var all = DashboardPageHelpers.RowStatuses(await App.GetPageAsync("/signatures"));
        var failed = DashboardPageHelpers.RowStatuses(await App.GetPageAsync("/signatures?status=Failed"));
        var failedCharges = await App.GetPageAsync("/signatures?status=Failed&task=charge-card");

        Assert.Equal(4, failed.Count);
        Assert.All(failed, status => Assert.Equal("Failed", status));
        Assert.True(all.Count > failed.Count, $"{all.Count} rows unfiltered");
        Assert.Equal(["Failed"], DashboardPageHelpers.RowStatuses(failedCharges));
        Assert.Contains(App.Seeded.DeclinedCharge, failedCharges);
    }

    [Fact]
    public async Task A_chain_shows_its_steps_in_order_and_a_swarm_its_counts_against_MaxConcurrency()
    {
        var oversized = (await App.Mage.GetSignatureInfoAsync(App.Seeded.OversizedFulfilment))!;
        var chainPage = await App.GetPageAsync($"/signatures/{oversized.Id}");
        var chain = chainPage[chainPage.IndexOf("<h2>Steps</h2>", StringComparison.Ordinal)..];
        var positions = oversized.StepIds.Select(id => chain.IndexOf($">{id}</a>", StringComparison.Ordinal)).ToList();
        Assert.All(positions, position => Assert.True(position > 0));
        Assert.Equal(positions.Order(), positions);
        Assert.Matches("validate-order <span class=\"status status-done\">", chain);
        Assert.Matches("reserve-stock <span class=\"status status-failed\">", chain);
        Assert.Matches("ship-order <span class=\"status status-pending\">", chain);

        var swarm = await App.GetPageAsync($"/signatures/{App.Seeded.Thumbnails}");
        Assert.Contains("""<dd id="swarm-running">0 of at most 2 """, swarm);
        Assert.Contains("""<dd id="swarm-done">5</dd>""", swarm);
        Assert.Contains("""<dd id="swarm-failed">1</dd>""", swarm);
        Assert.Equal(6, DashboardPageHelpers.RowStatuses(swarm).Count);
    }

    [Fact]
    public async Task Hostile_strings_from_the_store_are_encoded_and_the_pages_forbid_inline_scripts()
    {
        foreach (var path in new[] { $"/signatures/{App.Seeded.DeclinedCharge}", "/signatures?status=Failed" })
        {
            using var response = await App.GetAsync(path);
            var page = await response.Content.ReadAsStringAsync();

            Assert.DoesNotContain("<script>alert", page);
            Assert.DoesNotContain("<img", page);
            Assert.Contains(HtmlEncoder.Default.Encode(SampleData.AttributeInjection), page);
            Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        }
        var signature = await App.GetPageAsync($"/signatures/{App.Seeded.DeclinedCharge}");
        Assert.Contains(HtmlEncoder.Default.Encode(SampleData.ScriptInjection), signature);
    }

    [Fact]
    public async Task Only_the_actions_a_status_allows_are_offered_and_a_refused_one_says_why()
    {
        var done = await App.GetPageAsync($"/signatures/{App.Seeded.Greeting}");
        Assert.DoesNotContain("<form method=\"post\"", done);
        var suspended = await App.GetPageAsync($"/signatures/{App.Seeded.SuspendedGreeting}");
        Assert.Contains("id=\"action-resume\"", suspended);
        Assert.DoesNotContain("id=\"action-suspend\"", suspended);

        // A done signature's page has no form: the token comes from a page that has one, as if it had just finished.
        using var refused = await App.PostActionAsync(App.Seeded.Greeting, "cancel", await App.ReadAntiforgeryAsync(App.Seeded.Report));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains(App.Seeded.Greeting, await refused.Content.ReadAsStringAsync());
        Assert.Equal(SignatureStatus.Done, await (await App.Mage.GetSignatureAsync(App.Seeded.Greeting))!.GetStatusAsync());
    }

    [Fact]
    public async Task A_signature_that_does_not_exist_is_not_found()
    {
        using var response = await App.GetAsync("/signatures/no-such-id");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

/// <summary>Tests that change signatures: an app of their own, so the counts the read tests check stay as seeded.</summary>
public sealed class DashboardRequestTests(DefaultDashboard dashboard) : IClassFixture<DefaultDashboard>
{
    private const string OutsideAddress = "203.0.113.7";

    private DashboardApp App => dashboard.App;

    private string[] ReadPaths => ["/", "/signatures", $"/signatures/{App.Seeded.Greeting}", "/assets/dashboard.js", "/assets/dashboard.css"];

    [Fact]
    public async Task A_request_from_another_machine_is_refused_by_default_on_every_route()
    {
        foreach (var path in ReadPaths)
        {
            using var local = await App.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, local.StatusCode);
            using var outside = await App.GetAsync(path, OutsideAddress);
            Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        }

        var signature = await Greet.AsignAsync(App.Mage);
        var antiforgery = await App.ReadAntiforgeryAsync(signature.Id);
        using var post = await App.PostActionAsync(signature.Id, "suspend", antiforgery, OutsideAddress);
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Equal(SignatureStatus.Pending, await signature.GetStatusAsync());
    }

    [Fact]
    public async Task An_action_needs_the_antiforgery_token_and_then_changes_the_status()
    {
        var signature = await Greet.AsignAsync(App.Mage);

        using var withoutToken = await App.PostActionAsync(signature.Id, "suspend", antiforgery: null);
        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        var cookieWithForgedToken = await App.ReadAntiforgeryAsync(signature.Id) with { Token = "forged" };
        using var forged = await App.PostActionAsync(signature.Id, "suspend", cookieWithForgedToken);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(SignatureStatus.Pending, await signature.GetStatusAsync());

        using var accepted = await App.PostActionAsync(signature.Id, "suspend", await App.ReadAntiforgeryAsync(signature.Id));
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal($"/mageflow/signatures/{signature.Id}", accepted.Headers.Location?.ToString());
        Assert.Equal(SignatureStatus.Suspended, await signature.GetStatusAsync());
    }

    [Fact]
    public async Task A_failed_task_shows_its_failed_input_and_retry_runs_it_again()
    {
        var before = (await App.Mage.GetSignatureInfoAsync(App.Seeded.DeclinedCharge))!;
        Assert.Equal(SignatureStatus.Failed, before.Status);
        var page = await App.GetPageAsync($"/signatures/{App.Seeded.DeclinedCharge}");
        Assert.Contains("id=\"action-retry\"", page);
        Assert.Contains("id=\"failed-input\"", page);
        Assert.DoesNotContain("id=\"action-retry\"", await App.GetPageAsync($"/signatures/{App.Seeded.Greeting}"));

        using var retried = await App.PostActionAsync(App.Seeded.DeclinedCharge, "retry", await App.ReadAntiforgeryAsync(App.Seeded.DeclinedCharge));

        Assert.Equal(HttpStatusCode.Redirect, retried.StatusCode);
        // The card is declined again: the task ran again from its failed input and failed anew.
        var signature = (await App.Mage.GetSignatureAsync(App.Seeded.DeclinedCharge))!;
        SignatureInfo after;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            await Task.Delay(20);
            after = (await signature.GetInfoAsync())!;
        } while (!(after.Status == SignatureStatus.Failed && after.FinishedAt > before.FinishedAt) && DateTime.UtcNow < deadline);
        Assert.Equal(SignatureStatus.Failed, after.Status);
        Assert.True(after.FinishedAt > before.FinishedAt, "the retried run finished after the first failure");
        Assert.Equal(before.FailedInput!.Value.GetRawText(), after.FailedInput!.Value.GetRawText());
    }

    [Fact]
    public async Task An_action_is_named_never_numbered()
    {
        var signature = await Greet.AsignAsync(App.Mage);
        using var numbered = await App.PostActionAsync(signature.Id, "1", await App.ReadAntiforgeryAsync(signature.Id));
        using var named = await App.PostActionAsync(signature.Id, "Interrupt", await App.ReadAntiforgeryAsync(signature.Id));

        Assert.Equal(HttpStatusCode.NotFound, numbered.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, named.StatusCode);
        Assert.Equal(SignatureStatus.Interrupted, await signature.GetStatusAsync());
    }
}

/// <summary>Tests that need the dashboard mapped with other options: each starts its own app.</summary>
public sealed class DashboardOptionTests
{
    private const string OutsideAddress = "203.0.113.7";

    [Fact]
    public async Task A_predicate_replaces_the_local_only_rule()
    {
        await using var app = await DashboardApp.StartAsync(configure: o => o.Authorize = context => context.Request.Headers["X-Operator"] == "yes");

        using var withoutHeader = await app.GetAsync("/", OutsideAddress);
        using var withHeader = await app.GetAsync("/", OutsideAddress, r => r.Headers.Add("X-Operator", "yes"));
        using var localWithoutHeader = await app.GetAsync("/");

        Assert.Equal(HttpStatusCode.Forbidden, withoutHeader.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withHeader.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, localWithoutHeader.StatusCode);
    }

    [Fact]
    public async Task An_authorization_policy_replaces_the_local_only_rule()
    {
        await using var app = await DashboardApp.StartAsync(
            configure: o => o.AuthorizationPolicy = "operators",
            addServices: services =>
            {
                services.AddAuthentication(HeaderAuthentication.SchemeName)
                    .AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
                services.AddAuthorizationBuilder().AddPolicy("operators", policy => policy.RequireRole("operator"));
            });

        using var anonymous = await app.GetAsync("/", OutsideAddress);
        using var viewer = await app.GetAsync("/", OutsideAddress, r => r.Headers.Add(HeaderAuthentication.RoleHeader, "viewer"));
        using var operatorRequest = await app.GetAsync("/", OutsideAddress, r => r.Headers.Add(HeaderAuthentication.RoleHeader, "operator"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operatorRequest.StatusCode);
    }

    [Fact]
    public async Task Read_only_mode_shows_no_action_and_refuses_one_posted_anyway()
    {
        await using var app = await DashboardApp.StartAsync(configure: o => o.ReadOnly = true);
        var suspended = app.Seeded.SuspendedGreeting;

        var page = await app.GetPageAsync($"/signatures/{suspended}");
        Assert.Contains("Suspended", page);
        Assert.DoesNotContain("<form method=\"post\"", page);
        Assert.Contains("read-only", page);

        using var posted = await app.PostActionAsync(suspended, "resume", antiforgery: null);
        Assert.Equal(HttpStatusCode.Forbidden, posted.StatusCode);
        Assert.Equal(SignatureStatus.Suspended, (await app.Mage.GetSignatureInfoAsync(suspended))!.Status);
    }

    [Fact]
    public async Task The_pages_say_when_the_store_holds_more_than_they_read()
    {
        await using var app = await DashboardApp.StartAsync(configure: o => o.MaxSignaturesRead = 5);

        var overview = await app.GetPageAsync("/");
        var list = await app.GetPageAsync("/signatures");

        Assert.Contains("more than 5 signatures", overview);
        Assert.Equal(5, Enum.GetValues<SignatureStatus>().Sum(status => DashboardPageHelpers.CardCount(overview, status)));
        Assert.Contains("more than 5 signatures", list);
        Assert.Equal(5, DashboardPageHelpers.RowStatuses(list).Count);
    }

    [Fact]
    public void Mapping_without_the_services_it_needs_says_which_to_add()
    {
        using var withoutMageFlow = WebApplication.CreateBuilder().Build();
        var noClient = Assert.Throws<InvalidOperationException>(() => withoutMageFlow.MapMageFlowDashboard());
        Assert.Contains("AddMageFlow", noClient.Message);

        var builder = WebApplication.CreateBuilder();
        builder.Services.AddMageFlow();
        using var withoutAntiforgery = builder.Build();
        var noAntiforgery = Assert.Throws<InvalidOperationException>(() => withoutAntiforgery.MapMageFlowDashboard());
        Assert.Contains("AddAntiforgery", noAntiforgery.Message);
        // Read-only mode posts nothing, so it needs no antiforgery.
        withoutAntiforgery.MapMageFlowDashboard("/read-only", o => o.ReadOnly = true);
    }

    /// <summary>Signs in whoever sends a role header, with that role: enough to exercise a policy.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "test-header";
        public const string RoleHeader = "X-Test-Role";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[RoleHeader].FirstOrDefault() is not { } role) return Task.FromResult(AuthenticateResult.NoResult());
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "tester"), new Claim(ClaimTypes.Role, role)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
