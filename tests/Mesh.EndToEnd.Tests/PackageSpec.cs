using System.Diagnostics;
using System.Text.Json;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>Skipped, with the reason, where package.sh cannot build a Debian package (no dpkg-deb) or the unit cannot be checked.</summary>
public sealed class PackageFactAttribute : FactAttribute
{
    public PackageFactAttribute()
    {
        if (PackageSpec.WhyUnavailable is { } why) Skip = why;
    }
}

/// <summary>
/// The install, as a user does it (README, "Install"): <c>./package.sh</c> builds single-file executables and a
/// Debian package; the package installs them with a systemd unit per gateway that systemd accepts; the
/// executable <c>mesh-node</c> joins a running mesh with no .NET runtime of its own to find.
/// </summary>
public sealed class PackageSpec(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly SoloCore _core = new();

    public static string? WhyUnavailable =>
        !OperatingSystem.IsLinux() ? "packages are built for Linux"
        : Which("dpkg-deb") is null ? "no dpkg-deb (not a Debian-like system)"
        : Which("systemd-analyze") is null ? "no systemd-analyze to check the unit"
        : Environment.UserName != "root" ? "installing the package needs root (CI runs as root)"
        : null;

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    /// <summary>The checkout this test runs from (package.sh is at its root).</summary>
    private static string Repo
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "package.sh"))) return dir.FullName;
            throw new InvalidOperationException($"no package.sh above {AppContext.BaseDirectory}");
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _core.DisposeAsync();
        await Run("dpkg", ["--purge", "mesh"], TimeSpan.FromMinutes(1));   // whatever the test got to
    }

    [PackageFact]
    public async Task The_package_installs_single_file_executables_and_a_unit_systemd_accepts_and_mesh_node_joins_a_mesh()
    {
        var clock = Stopwatch.StartNew();
        var (code, said) = await Run(Path.Combine(Repo, "package.sh"), [], TimeSpan.FromMinutes(10));
        output.WriteLine($"package.sh took {clock.Elapsed.TotalSeconds:0}s:\n{said}");
        Assert.True(code == 0, $"package.sh exited {code}:\n{said}");
        var built = Path.Combine(Repo, "dist", "linux-x64");
        Assert.Equal(["mesh", "mesh-node"], Directory.GetFiles(built).Select(Path.GetFileName).Order());   // one file each, nothing beside them
        var deb = Assert.Single(Directory.GetFiles(Path.Combine(Repo, "dist"), "mesh_*_amd64.deb"));

        // what the package holds
        var (_, listing) = await Run("dpkg-deb", ["--contents", deb], TimeSpan.FromMinutes(1));
        foreach (var path in new[] { "./usr/bin/mesh-node", "./usr/bin/mesh", "./lib/systemd/system/mesh-node@.service", "./etc/mesh/example.env" })
            Assert.Contains(path, listing);

        // it installs: the executables, the gateways' user, /etc/mesh readable by that user only; systemd takes the unit
        var (installed, installLog) = await Run("dpkg", ["-i", deb], TimeSpan.FromMinutes(2));
        Assert.True(installed == 0, $"dpkg -i failed:\n{installLog}");
        var (version, versionText) = await Run("/usr/bin/mesh-node", ["--version"], TimeSpan.FromSeconds(30));
        Assert.True(version == 0 && versionText.StartsWith("0.7.0"), $"mesh-node --version: {versionText}");
        Assert.StartsWith("0.7.0", (await Run("/usr/bin/mesh", ["--version"], TimeSpan.FromSeconds(30))).Output);
        Assert.Equal(0, (await Run("id", ["mesh"], TimeSpan.FromSeconds(10))).Code);
        Assert.Equal("750 root mesh", (await Run("stat", ["-c", "%a %U %G", "/etc/mesh"], TimeSpan.FromSeconds(10))).Output.Trim());
        var (verified, verifyLog) = await Run("systemd-analyze", ["verify", "mesh-node@site-b.service"], TimeSpan.FromMinutes(1));
        Assert.True(verified == 0 && verifyLog.Trim().Length == 0, $"systemd-analyze verify: {verifyLog}");

        // the single-file gateway joins a mesh of ordinary ones (a core started through dotnet) as an edge
        await _core.StartAsync(_core.Config("""
            [gateways.site-b]
            """));
        var edge = NodeProcess.StartExecutable("/usr/bin/mesh-node", "site-b", _core.Dir,
            ["--name", "site-b", "--join", $"127.0.0.1:{_core.Link}", "--state-dir", Path.Combine(_core.Dir, "site-b"), .. await _core.Certificates.FlagsFor("site-b")]);
        try
        {
            using var http = _core.Http();
            var gateways = await http.PollJsonAsync("/v1/gateways", g => SiteB(g).GetProperty("connected").GetBoolean(), TimeSpan.FromSeconds(30));
            Assert.StartsWith("0.7.0", SiteB(gateways).GetProperty("version").GetString());
        }
        finally { await edge.DisposeAsync(); }

        static JsonElement SiteB(JsonElement gateways) => gateways.EnumerateArray().Single(g => g.GetProperty("name").GetString() == "site-b");
    }

    private static async Task<(int Code, string Output)> Run(string file, string[] args, TimeSpan within)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(within);
        try { await process.WaitForExitAsync(deadline.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} did not finish within {within}: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
