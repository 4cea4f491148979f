using System.Text.Json;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The API over HTTPS (`--api-cert/--api-key`): the `mesh` CLI trusts the CA given by `--ca` or `MESH_CA`, and
/// refuses a certificate it cannot check, saying what to give (issue 13: the write token crossed the network in clear).
/// </summary>
public sealed class ApiHttpsSpec : IAsyncLifetime
{
    private readonly SoloCore _core = new();
    private string Url => $"https://127.0.0.1:{_core.ApiPort}";

    public async Task InitializeAsync()
    {
        await _core.Certificates.FlagsFor("core1");   // creates the mesh CA
        var tls = Path.Combine(_core.Dir, "api-tls");
        var issued = await NodeProcess.RunCliAsync("cert", "issue", "api", "--san", "127.0.0.1", "--ca", Path.Combine(_core.Certificates.Dir, "ca"), "--out", tls);
        Assert.True(issued.ExitCode == 0, issued.Output);
        await _core.StartAsync(_core.Config(""), "--api-cert", Path.Combine(tls, "api.crt"), "--api-key", Path.Combine(tls, "api.key"));
    }

    public async Task DisposeAsync() => await _core.DisposeAsync();

    [Fact]
    public async Task The_cli_works_over_https_with_the_ca_given_by_flag_or_environment()
    {
        var byFlag = await MeshCli.RunAsync(["status", "--json", "--api", Url, "--ca", _core.Certificates.CaCert]);
        Assert.True(byFlag.ExitCode == 0, byFlag.Err);
        Assert.Equal(1, JsonDocument.Parse(byFlag.Out).RootElement.GetProperty("revision").GetInt64());

        var byEnvironment = await MeshCli.RunAsync(["status"], env: new Dictionary<string, string> { ["MESH_API"] = Url, ["MESH_CA"] = _core.Certificates.CaCert });
        Assert.True(byEnvironment.ExitCode == 0, byEnvironment.Err);

        var change = await MeshCli.RunAsync(["reload", "--api", Url, "--ca", _core.Certificates.CaCert], env: new Dictionary<string, string> { ["MESH_API_TOKEN"] = TestMesh.ApiToken });
        Assert.True(change.ExitCode == 0, change.Err);
    }

    [Fact]
    public async Task Without_the_ca_the_cli_refuses_the_certificate_and_says_to_give_it()
    {
        var run = await MeshCli.RunAsync(["status", "--api", Url]);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--ca or MESH_CA", run.Err);
        Assert.DoesNotContain("   at ", run.Err);   // a sentence, not a stack trace
    }

    [Fact]
    public async Task A_certificate_from_another_ca_is_refused()
    {
        var other = new TestCertificates(Path.Combine(_core.Dir, "other-pki"));
        await other.FlagsFor("x");
        var run = await MeshCli.RunAsync(["status", "--api", Url, "--ca", other.CaCert]);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("TLS", run.Err);
    }

    [Fact]
    public async Task A_plain_api_off_loopback_starts_with_a_warning_that_tokens_cross_in_clear()
    {
        await using var open = new SoloCore { ApiHost = "0.0.0.0" };
        var node = await open.StartAsync(open.Config(""));
        await node.WaitForLineAsync(l => l.Contains($"--api 0.0.0.0:{open.ApiPort}") && l.Contains("--api-cert"), TestMesh.Ready);
    }
}
