// Opens N idle link connections between two gateways in this process (real TLS on loopback) and reports
// what each side of one connection costs: OpenSSL's own allocations (needs DOTNET_OPENSSL_MEMORY_DEBUG=1,
// read through the runtime's private counter), the managed heap, and the process RSS.
using System.Net;
using System.Reflection;
using Mesh.Transport.Links;
using Mesh.Transport.Security;

var n = args.Length > 0 ? int.Parse(args[0]) : 1000;
var dir = Directory.CreateTempSubdirectory("link-memory-").FullName;
var (caCert, caKey) = MeshPki.CreateCa("bench", TimeSpan.FromDays(1));
var (caPath, _) = MeshPki.Write(dir, "ca", caCert, caKey);
MeshIdentity Identity(string name)
{
    var (cert, key) = MeshPki.Issue(name, caCert, caKey, TimeSpan.FromDays(1));
    var (certPath, keyPath) = MeshPki.Write(dir, name, cert, key);
    return MeshIdentity.Load(certPath, keyPath, caPath);
}
var (a, b) = (Identity("a"), Identity("b"));

var atB = new LinkRegistry((_, _) => { });
using var server = new LinkServer(new IPEndPoint(IPAddress.Loopback, 0));
server.Start(b, atB, Console.Error.WriteLine);
var atA = new LinkRegistry((_, _) => { });
Task<LinkConnection> Dial() => LinkHandshake.DialAsync(a, "b", server.LocalEndPoint, TimeSpan.FromSeconds(5), default);

atA.Add(await Dial());   // warm up: JIT, TLS contexts, pools
var before = Measure();
for (var i = 0; i < n; i++) atA.Add(await Dial());
while (atB.Pool("a").IdleCount < n + 1) await Task.Delay(20);
var holding = Measure();

double PerSide(long x0, long x1) => (x1 - x0) / 1024.0 / n / 2;
Console.WriteLine($"{n} idle link connections (both sides in this process), per side of one connection:");
Console.WriteLine($"  OpenSSL allocations  {(before.OpenSsl < 0 ? "n/a (set DOTNET_OPENSSL_MEMORY_DEBUG=1)" : $"{PerSide(before.OpenSsl, holding.OpenSsl):0.0} KiB")}");
Console.WriteLine($"  managed heap         {PerSide(before.Heap, holding.Heap):0.0} KiB");
Console.WriteLine($"  RSS                  {PerSide(before.Rss, holding.Rss):0.0} KiB");
Directory.Delete(dir, recursive: true);

static (long OpenSsl, long Heap, long Rss) Measure()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var counter = typeof(System.Security.Cryptography.Aes).Assembly.GetType("Interop+Crypto")
        ?.GetMethod("GetOpenSslAllocatedMemory", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public);
    var openSsl = Environment.GetEnvironmentVariable("DOTNET_OPENSSL_MEMORY_DEBUG") == "1" && counter?.Invoke(null, null) is { } v ? Convert.ToInt64(v) : -1;
    var rssKib = long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    return (openSsl, GC.GetTotalMemory(true), rssKib * 1024);
}
