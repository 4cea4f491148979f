using System.Diagnostics;
using System.Text.RegularExpressions;
using Mesh.Tests.Shared;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Mesh.EndToEnd.Tests;

/// <summary>Skipped, with the reason, where Debian's chromium is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (TopologyPageSpec.WhyUnavailable is { } why) Skip = why;
    }
}

/// <summary>
/// The live topology page (/ui) in a real browser (Debian's chromium, headless, driven by Playwright) on a mesh
/// of real processes: a user signs in with the read token, sees the gateways, follows an entry's relay path,
/// and sees a service drawn red within seconds of its process being killed, and back once it is started again.
/// </summary>
public sealed class TopologyPageSpec(ITestOutputHelper output) : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    public static string? WhyUnavailable => File.Exists(Chromium)
        ? null : $"chromium is not installed ({Chromium}; ./test.sh installs it with apt-get when run as root)";

    /// <summary>Where the screenshot goes: the test results (./test.sh sets MESH_TEST_RESULTS), never the work tree.</summary>
    private static string ResultsDir => Environment.GetEnvironmentVariable("MESH_TEST_RESULTS") is { Length: > 0 } dir
        ? dir : Path.Combine(AppContext.BaseDirectory, "test-results");

    private static readonly TimeSpan Seen = TimeSpan.FromSeconds(15);
    private const string Red = "rgb(229, 62, 62)";   // app.css --down, the graph's down service
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();
    private readonly int _webPort = FreePorts.Next();
    private readonly int _webEntry = FreePorts.Next();
    private NodeProcess _web = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private readonly List<string> _browserErrors = [];

    public async Task InitializeAsync()
    {
        if (WhyUnavailable is not null) return;
        await StartWebAsync();
        // web: a real process (mesh echo) owned by edge2, checked every 500 ms; its entry at edge1 is relayed by a core gateway
        await _mesh.StartAsync(_echo.Port, FreePorts.Next(), api: true, moreServices: $$"""
            [services.web]
            gateway = "edge2"
            target = "127.0.0.1:{{_webPort}}"
            check = { kind = "tcp", interval = "500ms", timeout = "500ms", rise = 2, fall = 2 }
            """, moreEntries: $$"""
            [[entries]]
            gateway = "edge1"
            listen = "127.0.0.1:{{_webEntry}}"
            service = "web"
            """);
        await _mesh.ReadyForFlowsAsync();
        using var http = TestMesh.Http($"http://127.0.0.1:{_mesh.ApiPort}");
        await http.WaitReadyAsync(TestMesh.Ready);
        (_playwright, _browser) = await LaunchAsync();
    }

    /// <summary>Debian's chromium, headless, through Playwright's driver (no browser of Playwright's own).</summary>
    public static async Task<(IPlaywright, IBrowser)> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        return (playwright, await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true }));
    }

    /// <summary>A page whose console errors (a CSP violation is one) and uncaught exceptions land in <paramref name="errors"/>,
    /// but the 401s of its reads before the user signs in.</summary>
    public static async Task<IPage> NewPageAsync(IBrowser browser, List<string> errors)
    {
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        page.Console += (_, m) => { if (m.Type == "error" && !m.Text.Contains("status of 401")) errors.Add($"{m.Text} ({m.Location})"); };
        page.PageError += (_, e) => errors.Add(e);
        return page;
    }

    private async Task StartWebAsync()
    {
        _web = NodeProcess.StartCli("web", _mesh.Dir, "echo", "--listen", $"127.0.0.1:{_webPort}");
        await _web.WaitForLineAsync(l => l.Contains("echo service listening"), TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        await _mesh.DisposeAsync();
        if (_web is not null) await _web.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private static LocatorAssertionsToHaveClassOptions Within(TimeSpan t) => new() { Timeout = (float)t.TotalMilliseconds };

    /// <summary>Waits until the graph's service node has (or has not) the class, then returns its fill colour.</summary>
    private static async Task<string> ServiceNodeAsync(IPage page, string service, string health)
    {
        await page.WaitForFunctionAsync("([id, health]) => window.meshTopology.cy.getElementById(id).hasClass(health)",
            new[] { $"s:{service}", health }, new() { Timeout = (float)Seen.TotalMilliseconds });
        return (await page.EvaluateAsync<string>("id => window.meshTopology.cy.getElementById(id).style('background-color')", $"s:{service}"))
            .Replace(",", ", ");
    }

    [ChromiumFact]
    public async Task A_user_signs_in_sees_the_gateways_follows_a_relay_path_and_sees_a_killed_service_turn_red_and_back()
    {
        var page = await NewPageAsync(_browser, _browserErrors);
        await page.GotoAsync($"http://127.0.0.1:{_mesh.ApiPort}/ui");

        // reads need a token: the page asks for it, and shows nothing of the mesh before
        await Expect(page.Locator("#login")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Expect(page.Locator("#view")).ToBeHiddenAsync();
        await page.Locator("#token").FillAsync(TestMesh.ApiReadToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        foreach (var gateway in new[] { "core1", "core2", "edge1", "edge2" })
        {
            var row = page.Locator($"#gateways tr[data-name='{gateway}']");
            await Expect(row).ToContainTextAsync("connected since", new() { Timeout = (float)Seen.TotalMilliseconds });
            await Expect(row).ToContainTextAsync(gateway.StartsWith("core") ? "core" : "edge");
        }
        Assert.Equal(4, await page.EvaluateAsync<int>("() => window.meshTopology.cy.nodes('.gateway.connected').length"));
        var webRow = page.Locator("#services tr[data-name='web']");
        await Expect(webRow).ToHaveClassAsync(new Regex(@"\bup\b"), Within(Seen));
        await Expect(webRow).ToContainTextAsync("edge2");

        // edge1's entry for web: its flows go to edge2 through the core gateway edge1's route table names
        using var http = TestMesh.Http($"http://127.0.0.1:{_mesh.ApiPort}");
        var routes = await http.GetJsonAsync("/v1/routes/edge1");
        var relay = routes.GetProperty("nextHops").EnumerateArray().Single(h => h.GetProperty("destination").GetString() == "edge2")
            .GetProperty("via").GetString()!;
        Assert.StartsWith("core", relay);
        await page.Locator("#entries tr", new() { HasText = $"127.0.0.1:{_webEntry}" }).ClickAsync();
        await Expect(page.Locator("#path-text")).ToHaveTextAsync($"edge1 → {relay} → edge2 (owner of web): relayed by {relay}",
            new() { Timeout = (float)Seen.TotalMilliseconds });
        Assert.Equal(new[] { "edge1", "edge2", relay, "web" }.Order(),
            (await page.EvaluateAsync<string[]>("() => window.meshTopology.cy.nodes('.on-path').map(n => n.id().slice(2))")).Order());
        Assert.Equal(2, await page.EvaluateAsync<int>("() => window.meshTopology.cy.edges('.link.on-path').length"));

        var killed = Stopwatch.StartNew();
        await _web.DisposeAsync();   // kills the service's process
        await Expect(webRow).ToHaveClassAsync(new Regex(@"\bdown\b"), Within(Seen));
        output.WriteLine($"web killed: drawn down after {killed.Elapsed.TotalSeconds:0.0}s");
        await Expect(webRow.Locator("td").First).ToHaveCSSAsync("color", Red);
        Assert.Equal(Red, await ServiceNodeAsync(page, "web", "down"));
        await Expect(page.Locator("#events")).ToContainTextAsync("service-down");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(10), $"drawn down {killed.Elapsed} after the kill");

        Directory.CreateDirectory(ResultsDir);
        var screenshot = Path.Combine(ResultsDir, "ui.png");
        await page.ScreenshotAsync(new() { Path = screenshot });
        output.WriteLine($"screenshot: {screenshot}");

        var started = Stopwatch.StartNew();
        await StartWebAsync();
        await Expect(webRow).ToHaveClassAsync(new Regex(@"\bup\b"), Within(Seen));
        output.WriteLine($"web started again: drawn up after {started.Elapsed.TotalSeconds:0.0}s");
        Assert.NotEqual(Red, await ServiceNodeAsync(page, "web", "up"));
        Assert.True(_browserErrors.Count == 0, string.Join("\n", _browserErrors));
    }
}

/// <summary>
/// The page on a gateway with --api-public-reads, whose config lies in a folder named like an HTML tag: the
/// page asks for no token, and the name (in the reload-applied event) is shown as text, never run.
/// </summary>
public sealed class TopologyPagePublicSpec : IAsyncLifetime
{
    private const string Tag = "<img src=x onerror=\"document.title='run'\">";
    private readonly SoloCore _core = new() { ConfigName = Path.Combine(Tag, "mesh.toml") };
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        if (TopologyPageSpec.WhyUnavailable is not null) return;
        await _core.StartAsync(_core.Config($$"""
            [services.db]
            gateway = "core1"
            target = "127.0.0.1:{{FreePorts.Next()}}"
            check = { kind = "tcp", interval = "500ms", timeout = "500ms", rise = 1, fall = 1 }
            """), "--api-public-reads");
        (_playwright, _browser) = await TopologyPageSpec.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        await _core.DisposeAsync();
    }

    [ChromiumFact]
    public async Task With_public_reads_it_asks_no_token_and_shows_names_from_the_mesh_as_text()
    {
        var errors = new List<string>();
        var page = await TopologyPageSpec.NewPageAsync(_browser, errors);
        await page.GotoAsync($"{_core.Api}/ui");
        var within = new LocatorAssertionsToContainTextOptions { Timeout = 15_000 };
        await Expect(page.Locator("#gateways tr[data-name='core1']")).ToContainTextAsync("connected since", within);
        await Expect(page.Locator("#services tr[data-name='db']")).ToContainTextAsync("down", within);   // nothing listens there
        await Expect(page.Locator("#login")).ToBeHiddenAsync();
        await Expect(page.Locator("#sign-out")).ToBeHiddenAsync();
        await Expect(page.Locator("#events")).ToContainTextAsync(Tag, within);
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Equal("Mesh topology", await page.TitleAsync());
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
