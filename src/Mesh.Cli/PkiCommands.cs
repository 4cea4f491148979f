using System.CommandLine;
using Mesh.Config;
using Mesh.Transport.Security;

namespace Mesh.Cli;

/// <summary>`mesh ca init` and `mesh cert issue`: the mesh's private PKI (docs/security.md).</summary>
public static class PkiCommands
{
    public static Command Ca()
    {
        var outDir = new Option<string>("--out") { Description = "Directory for ca.crt and ca.key (the key is written owner-only)", Required = true, HelpName = "DIR" };
        var mesh = new Option<string>("--mesh") { Description = "The mesh's name, written into the CA's subject", DefaultValueFactory = _ => "mesh", HelpName = "NAME" };
        var days = new Option<int>("--days") { Description = "Validity in days", DefaultValueFactory = _ => 3650 };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing CA (every certificate it issued stops being trusted)" };
        var init = new Command("init", "Create the mesh CA: its key signs every gateway certificate; keep it off the gateways") { outDir, mesh, days, force };
        init.SetAction(r =>
        {
            var dir = r.GetValue(outDir)!;
            if (File.Exists(Path.Combine(dir, MeshPki.CaKeyFile)) && !r.GetValue(force))
                return Fail($"{Path.Combine(dir, MeshPki.CaKeyFile)} exists already; use --force to replace the CA");
            var (cert, key) = MeshPki.CreateCa(r.GetValue(mesh)!, TimeSpan.FromDays(r.GetValue(days)));
            var (certPath, keyPath) = MeshPki.Write(dir, "ca", cert, key);
            Console.WriteLine($"mesh CA created: {certPath} (give it to every gateway as --ca), {keyPath} (secret: keep it off the gateways)");
            return 0;
        });
        return new Command("ca", "The mesh certificate authority") { init };
    }

    public static Command Cert()
    {
        var name = new Argument<string>("NAME") { Description = "The gateway's name, exactly as given to Mesh.Node --name" };
        var caDir = new Option<string>("--ca") { Description = "Directory holding ca.crt and ca.key", Required = true, HelpName = "DIR" };
        var outDir = new Option<string>("--out") { Description = "Directory for NAME.crt and NAME.key (the key is written owner-only)", Required = true, HelpName = "DIR" };
        var days = new Option<int>("--days") { Description = "Validity in days", DefaultValueFactory = _ => 825 };
        var issue = new Command("issue", "Issue a gateway certificate whose identity is the gateway's name") { name, caDir, outDir, days };
        issue.SetAction(r =>
        {
            var gateway = r.GetValue(name)!;
            if (!Names.IsValid(gateway)) return Fail($"'{gateway}' is not a valid gateway name: {Names.Rule}");
            var dir = r.GetValue(caDir)!;
            if (!File.Exists(Path.Combine(dir, MeshPki.CaKeyFile)))
                return Fail($"{Path.Combine(dir, MeshPki.CaKeyFile)} not found: create the CA with 'mesh ca init --out {dir}'");
            var (caCert, caKey) = MeshPki.LoadCa(dir);
            var (cert, key) = MeshPki.Issue(gateway, caCert, caKey, TimeSpan.FromDays(r.GetValue(days)));
            var (certPath, keyPath) = MeshPki.Write(r.GetValue(outDir)!, gateway, cert, key);
            Console.WriteLine($"certificate for gateway {gateway}: --cert {certPath} --key {keyPath} --ca {Path.Combine(dir, MeshPki.CaCertFile)}");
            return 0;
        });
        return new Command("cert", "Gateway certificates") { issue };
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"mesh: {message}");
        return 2;
    }
}
