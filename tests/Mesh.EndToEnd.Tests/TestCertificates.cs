namespace Mesh.EndToEnd.Tests;

/// <summary>A mesh CA and gateway certificates made with the real `mesh` command, as an operator would.</summary>
public sealed class TestCertificates
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<string> _issued = [];

    public TestCertificates(string dir) => Dir = dir;

    public string Dir { get; }
    public string CaCert => Path.Combine(Dir, "ca", "ca.crt");

    /// <summary>The --cert/--key/--ca flags for <paramref name="name"/>, issuing the certificate on first use.</summary>
    /// <param name="core">issue it with the core role (default: for the gateways named core*)</param>
    public async Task<string[]> FlagsFor(string name, bool? core = null)
    {
        await _gate.WaitAsync();
        try
        {
            if (_issued.Count == 0) await Run(["ca", "init", "--out", Path.Combine(Dir, "ca"), "--mesh", "e2e"]);
            if (_issued.Add(name))
                await Run(["cert", "issue", name, "--ca", Path.Combine(Dir, "ca"), "--out", Path.Combine(Dir, "certs"),
                    .. (core ?? name.StartsWith("core") ? new[] { "--role", "core" } : [])]);
        }
        finally { _gate.Release(); }
        return ["--cert", Path.Combine(Dir, "certs", $"{name}.crt"), "--key", Path.Combine(Dir, "certs", $"{name}.key"), "--ca", CaCert];
    }

    private static async Task Run(string[] args)
    {
        var (code, output) = await NodeProcess.RunCliAsync(args);
        Assert.True(code == 0, $"mesh {string.Join(' ', args)} failed: {output}");
    }
}
