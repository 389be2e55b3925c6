using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace MageFlow.Dashboard.Tests;

/// <summary>
/// Debian's headless Chromium driven through its chromedriver, both named by path so Selenium Manager never runs
/// (nothing can be downloaded here). CHROMIUM_PATH and CHROMEDRIVER_PATH override the Debian locations.
/// </summary>
internal static class Browser
{
    /// <summary>When set, the browser tests save a screenshot of each page they show into this folder (the docs use them).</summary>
    public const string ScreenshotFolderVariable = "MAGEFLOW_DASHBOARD_SCREENSHOTS";

    public static ChromeDriver Start()
    {
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        var driverPath = Environment.GetEnvironmentVariable("CHROMEDRIVER_PATH") ?? "/usr/bin/chromedriver";
        if (!File.Exists(chromium) || !File.Exists(driverPath))
        {
            throw new InvalidOperationException(
                $"The browser tests need Chromium at {chromium} and its driver at {driverPath}: apt-get install -y chromium chromium-driver (scripts/test.sh does).");
        }

        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driverPath)!, Path.GetFileName(driverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = chromium };
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1100");
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        return driver;
    }

    public static void Screenshot(IWebDriver driver, string name)
    {
        if (Environment.GetEnvironmentVariable(ScreenshotFolderVariable) is not { Length: > 0 } folder) return;
        Directory.CreateDirectory(folder);
        ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(Path.Combine(folder, $"dashboard-{name}.png"));
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; a stale element (the page refreshed under it) is read again.</summary>
    public static void WaitUntil(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            try
            {
                if (condition()) return;
            }
            catch (StaleElementReferenceException)
            {
            }
            catch (NoSuchElementException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            Thread.Sleep(100);
        }
    }
}
