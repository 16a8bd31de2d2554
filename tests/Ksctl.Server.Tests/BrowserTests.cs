using Ksctl.Server.Security;
using Ksctl.Server.Tests.Harness;
using Microsoft.Playwright;
using Xunit;

namespace Ksctl.Server.Tests;

/// <summary>
/// The web client in a real browser: Debian's Chromium driven by Playwright (its executable path set, nothing
/// downloaded). A screenshot of each page is kept in the test output folder (screenshots/) as an artefact.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    [Fact]
    public async Task Admin_creates_a_Local_cluster_in_the_browser_watches_it_run_and_deletes_it_a_reader_sees_no_change_buttons()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run installs it).");
        Directory.CreateDirectory(Screenshots);
        await using var server = await TestServer.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });

        // The server's certificate is self-signed for this test; the API tests pin it, the browser is told to accept it.
        var admin = await (await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true })).NewPageAsync();
        await SignInAsync(admin, server, ApiRole.Admin);
        await admin.Locator("#list").WaitForAsync();
        await admin.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "1-clusters.png"), FullPage = true });

        await admin.ClickAsync("#show-create");
        await admin.Locator("#create").WaitForAsync();
        Assert.Contains("Local", await admin.Locator("#create-form select[name=provider] option").AllTextContentsAsync());
        // The form's validation messages are the API's own.
        await admin.FillAsync("#create-form input[name=name]", "Bad_Name");
        await admin.ClickAsync("#create-form button[type=submit]");
        await Assertions.Expect(admin.Locator("#create-error")).ToContainTextAsync("KsctlInvalidSpec: Invalid value for -Name");
        await admin.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "2-create-invalid.png"), FullPage = true });

        await admin.FillAsync("#create-form input[name=name]", "browser");
        await admin.SelectOptionAsync("#create-form select[name=provider]", "Local");
        await admin.ClickAsync("#create-form button[type=submit]");
        await Assertions.Expect(admin.Locator("#cluster-title")).ToContainTextAsync("browser (Local/Managed, LOCAL)");
        // Live progress: the page follows the operation's SSE stream and shows Running when it ends.
        await Assertions.Expect(admin.Locator("#fact-status")).ToHaveTextAsync("Running", new() { Timeout = 60_000 });
        await Assertions.Expect(admin.Locator(".op-head").First).ToContainTextAsync("create by admin: Succeeded");
        Assert.Equal(2, await admin.Locator(".op li.step-Done").CountAsync());
        await admin.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "3-cluster-running.png"), FullPage = true });

        // A reader: no create, delete, resize or kubeconfig controls, and the API refuses them anyway.
        var reader = await (await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true })).NewPageAsync();
        await SignInAsync(reader, server, ApiRole.Reader);
        await Assertions.Expect(reader.Locator("#clusters tbody tr")).ToHaveCountAsync(1);
        Assert.False(await reader.Locator("#show-create").IsVisibleAsync());
        await reader.ClickAsync("#clusters tbody tr");
        await Assertions.Expect(reader.Locator("#fact-status")).ToHaveTextAsync("Running");
        Assert.False(await reader.Locator("#delete-form").IsVisibleAsync());
        Assert.False(await reader.Locator("#resize-form").IsVisibleAsync());
        Assert.False(await reader.Locator("#kubeconfig").IsVisibleAsync());
        var refused = await reader.EvaluateAsync<int>(
            "async (k) => (await fetch('/api/v1/clusters/browser', { method: 'DELETE', headers: { Authorization: 'Bearer ' + k } })).status", server.Keys[ApiRole.Reader]);
        Assert.Equal(403, refused);
        await reader.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "4-reader-cluster.png"), FullPage = true });

        // Delete after typing the name: the button stays disabled until the name is exact.
        Assert.True(await admin.Locator("#delete-button").IsDisabledAsync());
        await admin.FillAsync("#delete-form input[name=confirm]", "browse");
        Assert.True(await admin.Locator("#delete-button").IsDisabledAsync());
        await admin.FillAsync("#delete-form input[name=confirm]", "browser");
        await admin.ClickAsync("#delete-button");
        await Assertions.Expect(admin.Locator("#cluster-error")).ToContainTextAsync("KsctlClusterNotFound", new() { Timeout = 60_000 });
        await admin.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "5-deleted.png"), FullPage = true });
        Assert.Contains(server.KindCalls(), c => c.StartsWith("delete cluster --name browser", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(server.Home, "state"), "state.json", SearchOption.AllDirectories));
    }

    private static async Task SignInAsync(IPage page, TestServer server, ApiRole role)
    {
        await page.GotoAsync(server.BaseAddress.ToString());
        await page.FillAsync("#apikey", server.Keys[role]);
        await page.ClickAsync("#signin-form button[type=submit]");
        await Assertions.Expect(page.Locator("#who")).ToContainTextAsync($"({role})");
    }
}
