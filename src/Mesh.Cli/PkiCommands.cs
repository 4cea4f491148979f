using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Mesh.Cli.Admin;
using Mesh.Config;
using Mesh.Transport.Security;

namespace Mesh.Cli;

/// <summary>`mesh ca init`, `mesh cert issue` and `mesh cert show`: the mesh's private PKI (docs/security.md).</summary>
public static class PkiCommands
{
    public const int MaxDays = 3650;

    private static Option<int> Days(int fallback) => new("--days")
    {
        Description = $"Validity in days (1-{MaxDays})",
        DefaultValueFactory = _ => fallback,
        Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > MaxDays) r.AddError($"--days must be from 1 to {MaxDays}, not {r.GetValueOrDefault<int>()}"); } },
    };

    public static Command Ca()
    {
        var outDir = new Option<string>("--out") { Description = "Directory for ca.crt and ca.key (the key is written owner-only)", Required = true, HelpName = "DIR" };
        var mesh = new Option<string>("--mesh") { Description = "The mesh's name, written into the CA (and the certificates it issues)", DefaultValueFactory = _ => "mesh", HelpName = "NAME" };
        var days = Days(MaxDays);
        var force = new Option<bool>("--force") { Description = "Replace an existing CA (every certificate it issued stops being trusted)" };
        var encrypt = new Option<bool>("--encrypt") { Description = "Encrypt the CA key with a passphrase (MESH_CA_PASSPHRASE, or asked for)" };
        var init = new Command("init", "Create the mesh CA: its key signs every gateway certificate; keep it off the gateways") { outDir, mesh, days, force, encrypt };
        init.SetAction(r =>
        {
            var dir = r.GetValue(outDir)!;
            if (!Names.IsValid(r.GetValue(mesh)!)) return Fail($"--mesh: '{r.GetValue(mesh)}' is not a valid name: {Names.Rule}");
            try
            {
                var passphrase = r.GetValue(encrypt) ? Passphrase.New() : null;
                var (cert, key) = MeshPki.CreateCa(r.GetValue(mesh)!, TimeSpan.FromDays(r.GetValue(days)));
                var (certPath, keyPath) = PkiFiles.Write(dir, "ca", cert, key, r.GetValue(force), passphrase);
                Console.WriteLine($"mesh CA created: {certPath} (give it to every gateway as --ca), {keyPath} (secret{(passphrase is null ? "" : ", encrypted")}: keep it off the gateways)");
                return 0;
            }
            catch (Exception e) when (e is PkiFileException or PassphraseException) { return Fail(e.Message); }
        });
        return new Command("ca", "The mesh certificate authority") { init }.ListingSubcommands();
    }

    public static Command Cert()
    {
        var name = new Argument<string>("NAME") { Description = "The gateway's name, exactly as given to Mesh.Node --name" };
        var caDir = new Option<string>("--ca") { Description = "Directory holding ca.crt and ca.key", Required = true, HelpName = "DIR" };
        var outDir = new Option<string>("--out") { Description = "Directory for NAME.crt and NAME.key (the key is written owner-only)", Required = true, HelpName = "DIR" };
        var days = Days(825);
        var role = new Option<string>("--role")
        {
            Description = "core: may join the cluster and host the director (gateways with --listen); edge: may not (default)",
            DefaultValueFactory = _ => "edge", HelpName = "core|edge",
        };
        role.AcceptOnlyFromAmong("core", "edge");
        var san = new Option<string[]>("--san")
        {
            Description = "Also valid for these host names or IP addresses (e.g. to serve the API over HTTPS with this certificate); repeatable",
            HelpName = "HOST", AllowMultipleArgumentsPerToken = true,
        };
        var force = new Option<bool>("--force") { Description = "Replace NAME.crt and NAME.key if they exist (a link there is replaced, never followed)" };
        var issue = new Command("issue", "Issue a gateway certificate: its name and role, signed by the mesh CA") { name, caDir, outDir, days, role, san, force };
        issue.SetAction(r =>
        {
            var gateway = r.GetValue(name)!;
            if (!Names.IsValid(gateway)) return Fail($"'{gateway}' is not a valid gateway name: {Names.Rule}");
            var dir = r.GetValue(caDir)!;
            if (!File.Exists(Path.Combine(dir, MeshPki.CaKeyFile)))
                return Fail($"{Path.Combine(dir, MeshPki.CaKeyFile)} not found: create the CA with 'mesh ca init --out {dir}'");
            try
            {
                var (caCert, caKey) = PkiFiles.LoadCa(dir, Passphrase.Existing);
                var gatewayRole = r.GetValue(role) == "core" ? GatewayRole.Core : GatewayRole.Edge;
                var (cert, key) = MeshPki.Issue(gateway, gatewayRole, caCert, caKey, TimeSpan.FromDays(r.GetValue(days)), r.GetValue(san) ?? []);
                var (certPath, keyPath) = PkiFiles.Write(r.GetValue(outDir)!, gateway, cert, key, r.GetValue(force));
                Console.WriteLine($"certificate for gateway {gateway} ({r.GetValue(role)}): --cert {certPath} --key {keyPath} --ca {Path.Combine(dir, MeshPki.CaCertFile)}");
                Console.WriteLine($"fingerprint {GatewayIdentity.FingerprintOf(cert)} (what [mesh] revoked lists to revoke it)");
                return 0;
            }
            catch (Exception e) when (e is PkiFileException or PassphraseException) { return Fail(e.Message); }
        });
        return new Command("cert", "Gateway certificates") { issue, Show() }.ListingSubcommands();
    }

    private static Command Show()
    {
        var file = new Argument<string>("FILE") { Description = "A certificate (PEM), e.g. certs/site-b.crt" };
        var json = new Option<bool>("--json") { Description = "Print JSON (for scripts)" };
        var show = new Command("show", "What a certificate says: gateway, role, mesh, validity, and its fingerprint (for [mesh] revoked)") { file, json };
        show.SetAction(r =>
        {
            X509Certificate2 cert;
            try { cert = X509Certificate2.CreateFromPem(File.ReadAllText(r.GetValue(file)!)); }
            catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
            { return Fail($"cannot read {r.GetValue(file)}: {e.Message}"); }
            var id = GatewayIdentity.Of(cert);
            var view = new
            {
                gateway = id?.Name, role = id is null ? null : id.Role == GatewayRole.Core ? "core" : "edge", mesh = MeshPki.MeshNameOf(cert),
                subject = cert.Subject, issuer = cert.Issuer, notBefore = cert.NotBefore.ToUniversalTime(), notAfter = cert.NotAfter.ToUniversalTime(),
                fingerprint = GatewayIdentity.FingerprintOf(cert),
                names = cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(s => s.EnumerateDnsNames()).ToArray(),
            };
            if (r.GetValue(json)) Admin.AdminOptions.PrintJson(view);
            else
            {
                Console.WriteLine($"gateway      {view.gateway ?? "(none)"}");
                Console.WriteLine($"role         {view.role ?? "-"}{(id?.Role == GatewayRole.Edge ? " (no core role: may not join the cluster)" : "")}");
                Console.WriteLine($"subject      {view.subject}");
                Console.WriteLine($"issuer       {view.issuer}");
                Console.WriteLine($"valid        {view.notBefore:yyyy-MM-dd HH:mm} to {view.notAfter:yyyy-MM-dd HH:mm} UTC");
                Console.WriteLine($"fingerprint  {view.fingerprint}");
            }
            return 0;
        });
        return show;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"mesh: {message}");
        return 2;
    }
}

public sealed class PassphraseException(string message) : Exception(message);

/// <summary>The CA key's passphrase: MESH_CA_PASSPHRASE, else asked for on the terminal (never echoed).</summary>
public static class Passphrase
{
    public const string Variable = "MESH_CA_PASSPHRASE";

    public static string New()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } env) return Checked(env);
        var first = Ask("passphrase for the CA key: ");
        if (Ask("again: ") != first) throw new PassphraseException("the two passphrases differ");
        return Checked(first);
    }

    public static string Existing() => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } env ? env : Ask("passphrase of the CA key: ");

    private static string Checked(string p) =>
        p.Length >= 12 ? p : throw new PassphraseException($"the passphrase has {p.Length} characters; use at least 12");

    private static string Ask(string prompt)
    {
        if (Console.IsInputRedirected)
            throw new PassphraseException($"the CA key is (to be) encrypted: set {Variable}, or run this on a terminal to be asked");
        Console.Error.Write(prompt);
        var text = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (text.Length > 0) text.Length--; continue; }
            text.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return text.ToString();
    }
}
