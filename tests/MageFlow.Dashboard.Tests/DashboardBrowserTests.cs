using MageFlow.Samples.Dashboard;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace MageFlow.Dashboard.Tests;

/// <summary>The sample's data on Kestrel, and one headless Chromium for the class.</summary>
public sealed class BrowserDashboard : IAsyncLifetime
{
    public DashboardApp App { get; private set; } = null!;

    public ChromeDriver Driver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await DashboardApp.StartAsync(onKestrel: true);
        Driver = Browser.Start();
    }

    public async Task DisposeAsync()
    {
        Driver?.Quit();
        Driver?.Dispose();
        if (App is not null) await App.DisposeAsync();
    }
}

public sealed class DashboardBrowserTests(BrowserDashboard dashboard) : IClassFixture<BrowserDashboard>
{
    private DashboardApp App => dashboard.App;

    private ChromeDriver Driver => dashboard.Driver;

    private void Open(string path) => Driver.Navigate().GoToUrl(App.BaseAddress + DashboardApp.Root + path);

    /// <summary>An element's text, read again if the refresh script replaced the element meanwhile.</summary>
    private string Text(string cssSelector)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return Driver.FindElement(By.CssSelector(cssSelector)).Text;
            }
            catch (StaleElementReferenceException) when (attempt < 3)
            {
            }
        }
    }

    [Fact]
    public void The_overview_renders_the_seeded_counts()
    {
        Open("/");

        Assert.Equal("Overview · MageFlow", Driver.Title);
        Assert.Equal("4", Text(".card-failed .count"));
        Assert.Equal("1", Text(".card-suspended .count"));
        Assert.Contains("charge-card", Text("table.by-task"));
        // The stylesheet came from the package: the status badges are coloured, not default black on white.
        Assert.NotEqual("rgba(0, 0, 0, 0)", Driver.FindElement(By.CssSelector(".card-failed .status")).GetCssValue("background-color"));
        Browser.Screenshot(Driver, "overview");
    }

    [Fact]
    public void The_filter_narrows_the_list()
    {
        Open("/signatures");
        var allRows = Driver.FindElements(By.CssSelector("table.signatures tbody tr")).Count;

        Driver.FindElement(By.CssSelector("#filter-status option[value='Failed']")).Click();
        Driver.FindElement(By.CssSelector("#filter-task option[value='charge-card']")).Click();
        Driver.FindElement(By.Id("filter-apply")).Click();

        Browser.WaitUntil(() => Driver.Url.Contains("status=Failed", StringComparison.Ordinal), "the filter is applied");
        var rows = Driver.FindElements(By.CssSelector("table.signatures tbody tr"));
        Assert.Single(rows);
        Assert.True(allRows > 1, $"{allRows} rows unfiltered");
        Assert.Contains(App.Seeded.DeclinedCharge, rows[0].Text);
        Assert.Equal("1", Text("#match-count"));

        Open("/signatures?status=Failed");
        Browser.Screenshot(Driver, "signatures");
    }

    [Fact]
    public void Hostile_strings_are_shown_as_text_and_never_run()
    {
        Open($"/signatures/{App.Seeded.DeclinedCharge}");

        Assert.Contains(SampleData.ScriptInjection, Text("#kwargs"));
        Assert.Contains(SampleData.AttributeInjection, Text("#failure"));
        Assert.Empty(Driver.FindElements(By.TagName("img")));
        Assert.Empty(Driver.FindElements(By.CssSelector("main script")));
        Assert.Throws<NoAlertPresentException>(() => Driver.SwitchTo().Alert());
        // The error callback is a link to its own page.
        Assert.NotEmpty(Driver.FindElements(By.CssSelector(".signature-list a.id")));
        Browser.Screenshot(Driver, "signature");
    }

    [Fact]
    public void A_chain_and_a_swarm_show_their_structure_with_each_item_status()
    {
        Open($"/signatures/{App.Seeded.OversizedFulfilment}");
        var steps = Driver.FindElements(By.CssSelector(".structure ol li"));
        Assert.Equal(3, steps.Count);
        Assert.Contains("validate-order", steps[0].Text);
        Assert.Contains("Done", steps[0].Text);
        Assert.Contains("Failed", steps[1].Text);
        Assert.Contains("Pending", steps[2].Text);
        Browser.Screenshot(Driver, "chain");

        Open($"/signatures/{App.Seeded.Thumbnails}");
        Assert.StartsWith("0 of at most 2", Text("#swarm-running"));
        Assert.Equal("5", Text("#swarm-done"));
        Assert.Equal("1", Text("#swarm-failed"));
        Assert.Equal(6, Driver.FindElements(By.CssSelector("table.items tbody tr")).Count);
        Browser.Screenshot(Driver, "swarm");
    }

    [Fact]
    public async Task An_action_button_changes_the_status()
    {
        var report = await BuildReport.AsignAsync(App.Mage);
        await report.RunAsync(new ReportMessage("action-test"));
        await App.WaitForStatusAsync(report.Id, SignatureStatus.Active);
        Open($"/signatures/{report.Id}");
        Assert.Equal("Active", Text("#signature-status"));

        Driver.FindElement(By.Id("action-interrupt")).Click();

        Browser.WaitUntil(() => Text("#signature-status") == "Interrupted", "the page shows the interrupted status");
        Assert.Equal(SignatureStatus.Interrupted, await report.GetStatusAsync());
        Browser.Screenshot(Driver, "interrupted");
    }

    [Fact]
    public async Task An_open_page_follows_a_change_made_elsewhere()
    {
        var greeting = await Greet.AsignAsync(App.Mage);
        await greeting.SuspendAsync();
        await greeting.RunAsync(new GreetMessage("live"));
        Open($"/signatures/{greeting.Id}");
        Assert.Equal("Suspended", Text("#signature-status"));

        await greeting.ResumeAsync();

        // No navigation: the refresh script brings the new status in.
        Browser.WaitUntil(() => Text("#signature-status") == "Done", "the open page shows Done");
        Assert.Equal($"{App.BaseAddress}{DashboardApp.Root}/signatures/{greeting.Id}", Driver.Url);
    }
}
