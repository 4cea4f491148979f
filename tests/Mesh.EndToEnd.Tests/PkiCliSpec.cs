using System.Text.Json;

namespace Mesh.EndToEnd.Tests;

/// <summary>The PKI commands as an operator runs them: roles, fingerprints, and files written safely (issue 12, 13).</summary>
public sealed class PkiCliSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-pki-").FullName;
    private string Ca => Path.Combine(_dir, "ca");
    private string Certs => Path.Combine(_dir, "certs");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static Task<MeshCli.Run> Mesh(params string[] args) => MeshCli.RunAsync(args);

    [Fact]
    public async Task A_certificate_carries_its_role_and_cert_show_prints_it_with_the_fingerprint()
    {
        Assert.Equal(0, (await Mesh("ca", "init", "--out", Ca, "--mesh", "acme")).ExitCode);
        var core = await Mesh("cert", "issue", "core1", "--role", "core", "--ca", Ca, "--out", Certs);
        Assert.Equal(0, core.ExitCode);
        Assert.Contains("fingerprint sha256:", core.Out);
        Assert.Equal(0, (await Mesh("cert", "issue", "site-b", "--ca", Ca, "--out", Certs)).ExitCode);

        var shown = JsonDocument.Parse((await Mesh("cert", "show", Path.Combine(Certs, "core1.crt"), "--json")).Out).RootElement;
        Assert.Equal(("core1", "core", "acme"), (shown.GetProperty("gateway").GetString(), shown.GetProperty("role").GetString(), shown.GetProperty("mesh").GetString()));
        Assert.Matches("^sha256:[0-9a-f]{64}$", shown.GetProperty("fingerprint").GetString());
        var edge = await Mesh("cert", "show", Path.Combine(Certs, "site-b.crt"));
        Assert.Contains("role         edge (no core role: may not join the cluster)", edge.Out);
        Assert.Equal(2, (await Mesh("cert", "issue", "x", "--role", "admin", "--ca", Ca, "--out", Certs)).ExitCode);
    }

    [Fact]
    public async Task Keys_are_never_written_through_a_link_nor_over_a_file_unless_forced_and_then_the_link_itself_is_replaced()
    {
        Assert.Equal(0, (await Mesh("ca", "init", "--out", Ca)).ExitCode);
        Directory.CreateDirectory(Certs);
        var victim = Path.Combine(_dir, "victim.txt");
        await File.WriteAllTextAsync(victim, "precious\n");
        File.CreateSymbolicLink(Path.Combine(Certs, "site-b.key"), victim);   // planted by someone else

        var refused = await Mesh("cert", "issue", "site-b", "--ca", Ca, "--out", Certs);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("site-b.key is a symbolic link", refused.Err);
        Assert.Equal("precious\n", await File.ReadAllTextAsync(victim));

        var forced = await Mesh("cert", "issue", "site-b", "--ca", Ca, "--out", Certs, "--force");
        Assert.Equal(0, forced.ExitCode);
        Assert.Equal("precious\n", await File.ReadAllTextAsync(victim));   // the link was replaced, not followed
        Assert.Null(new FileInfo(Path.Combine(Certs, "site-b.key")).LinkTarget);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Certs, "site-b.key")));

        var again = await Mesh("cert", "issue", "site-b", "--ca", Ca, "--out", Certs);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("exists already", again.Err);
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("4000")]
    public async Task Days_out_of_range_is_a_one_line_error_not_a_crash(string days)
    {
        Assert.Equal(0, (await Mesh("ca", "init", "--out", Ca)).ExitCode);
        var run = await Mesh("cert", "issue", "site-b", "--ca", Ca, "--out", Certs, "--days", days);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"--days must be from 1 to 3650, not {days}", run.Err);
        Assert.DoesNotContain("   at ", run.Err);
    }

    [Fact]
    public async Task An_encrypted_ca_key_needs_its_passphrase_to_issue()
    {
        var passphrase = new Dictionary<string, string> { ["MESH_CA_PASSPHRASE"] = "correct horse battery" };
        Assert.Equal(0, (await MeshCli.RunAsync(["ca", "init", "--out", Ca, "--encrypt"], env: passphrase)).ExitCode);
        Assert.Contains("ENCRYPTED PRIVATE KEY", await File.ReadAllTextAsync(Path.Combine(Ca, "ca.key")));

        var without = await Mesh("cert", "issue", "site-b", "--ca", Ca, "--out", Certs);
        Assert.Equal(2, without.ExitCode);
        Assert.Contains("MESH_CA_PASSPHRASE", without.Err);
        var wrong = await MeshCli.RunAsync(["cert", "issue", "site-b", "--ca", Ca, "--out", Certs], env: new Dictionary<string, string> { ["MESH_CA_PASSPHRASE"] = "wrong passphrase!" });
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("wrong passphrase", wrong.Err);
        Assert.Equal(0, (await MeshCli.RunAsync(["cert", "issue", "site-b", "--ca", Ca, "--out", Certs], env: passphrase)).ExitCode);
    }
}
