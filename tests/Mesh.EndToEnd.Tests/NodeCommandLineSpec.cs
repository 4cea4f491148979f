namespace Mesh.EndToEnd.Tests;

/// <summary>The Mesh.Node binary as an operator runs it: --check, --help, bad flags.</summary>
public sealed class NodeCommandLineSpec
{
    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "samples", name, "mesh.toml");

    [Fact]
    public async Task Check_accepts_the_seed_example_and_exits_0()
    {
        var (code, output) = await NodeProcess.RunAsync("--config", Sample("seed"), "--check");
        Assert.Equal(0, code);
        Assert.Contains("valid: mesh acme, 3 gateways (1 core), 4 services, 9 entries", output);
    }

    [Fact]
    public async Task Check_accepts_the_three_core_example_the_README_runs_by_hand_and_exits_0()
    {
        var (code, output) = await NodeProcess.RunAsync("--config", Sample("three-core"), "--check");
        Assert.Equal(0, code);
        Assert.Contains("valid: mesh acme, 4 gateways (3 core), 1 service, 1 entry", output);
    }

    [Fact]
    public async Task Check_reports_every_mistake_with_file_and_line_and_exits_2()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("mesh-check-").FullName, "bad.toml");
        await File.WriteAllTextAsync(file, """
            [mesh]
            name = "m"
            [gateways.a]
            links = ["127.0.0.1:99999"]
            [services.s]
            gateway = "b"
            target = "127.0.0.1:80"
            check = { kind = "ping" }
            [[entries]]
            gateway = "a"
            listen = "127.0.0.1:80"
            service = "t"
            """);

        var (code, output) = await NodeProcess.RunAsync("--config", file, "--check");

        Assert.Equal(2, code);
        Assert.Contains($"{file}:4: gateways.a.links: port '99999'", output);
        Assert.Contains($"{file}:6: services.s.gateway: unknown gateway 'b'", output);
        Assert.Contains($"{file}:8: services.s.check.kind: unknown check kind 'ping'", output);
        Assert.Contains($"{file}:12: entries[0].service: unknown service 't'", output);
        Assert.Contains($"{file}: 4 errors", output);
    }

    [Theory]
    [InlineData("--listen 127.0.0.1:7000", "--name is required")]
    [InlineData("--name a --listen nowhere", "--listen: 'nowhere' is not HOST:PORT")]
    [InlineData("--name a", "--join is required for an edge gateway")]
    [InlineData("--name a --join 127.0.0.1:1 --bogus", "Unrecognized command or argument '--bogus'")]
    [InlineData("--check", "--check needs --config FILE")]
    [InlineData("--name a --join 127.0.0.1:1 --edge", "--edge needs --listen")]
    [InlineData("--name a --listen 127.0.0.1:7000 --edge", "--join is required for an edge gateway (--edge)")]
    [InlineData("--name a --listen 127.0.0.1:7000 --edge --join 127.0.0.1:1 --config x.toml", "--config cannot go with --edge")]
    public async Task Bad_flags_give_one_line_naming_the_flag_and_exit_2(string args, string message)
    {
        var (code, output) = await NodeProcess.RunAsync(args.Split(' '));
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, line);
    }

    [Fact]
    public async Task Help_documents_every_flag()
    {
        var (code, output) = await NodeProcess.RunAsync("--help");
        Assert.Equal(0, code);
        foreach (var flag in new[] { "--name", "--join", "--cluster-port", "--listen", "--config", "--check", "--redis", "--api", "--api-token-file", "--cert", "--key", "--ca", "--state-dir" })
            Assert.Contains(flag, output);
    }

    [Fact]
    public async Task A_node_whose_config_is_invalid_does_not_start()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("mesh-bad-").FullName, "mesh.toml");
        await File.WriteAllTextAsync(file, "[mesh]\nname = \"m\"\n[gateways.a]\nlinks = [\"127.0.0.1:7000\"]\n[bogus]\n");
        var (code, output) = await NodeProcess.RunAsync("--name", "a", "--listen", "127.0.0.1:7000", "--config", file,
            "--cert", file, "--key", file, "--ca", file);   // the config is checked before the certificate is read
        Assert.Equal(2, code);
        Assert.Contains($"{file}:5: bogus: unknown key", output);
    }
}
