using System.Text;
using Mesh.Contracts.Routing;

namespace Mesh.Bench.Scale;

/// <summary>
/// A mesh of a given size as the review of issue 19 shaped it: 5% core gateways (core1.., at least two, each
/// with one link address 10.0.x.y:7443), the rest edges (site-1..) that only dial out; services owned by the
/// edges round-robin; entries spread over every gateway, each for a service another gateway owns. Every
/// gateway dials every core gateway and reports those links up, with round trips of 1-40 ms from a seeded
/// Random: the same size always gives the same text and the same reports.
/// </summary>
public sealed class SyntheticMesh
{
    public int Gateways { get; }
    public int Services { get; }
    public int Entries { get; }
    public IReadOnlyList<string> Cores { get; }
    public IReadOnlyList<string> Edges { get; }
    public IReadOnlyList<string> All { get; }

    public SyntheticMesh(int gateways, int? services = null, int? entries = null)
    {
        Gateways = gateways;
        Services = services ?? 10 * gateways;
        Entries = entries ?? 20 * gateways;
        var cores = Math.Max(2, (gateways + 10) / 20);   // 5%, rounded; two at least, so a core-edge link has an alternative
        if (gateways <= cores) throw new ArgumentException($"{gateways} gateways leave no edge beside {cores} core gateways");
        Cores = Enumerable.Range(1, cores).Select(i => $"core{i}").ToArray();
        Edges = Enumerable.Range(1, gateways - cores).Select(i => $"site-{i}").ToArray();
        All = [.. Cores, .. Edges];
    }

    /// <summary>The owner of service <paramref name="k"/> (0-based): the edges in turn.</summary>
    public string OwnerOf(int k) => Edges[k % Edges.Count];

    public string ConfigText()
    {
        var t = new StringBuilder(Entries * 80 + Services * 60);
        t.Append("[mesh]\nname = \"scale\"\n\n");
        for (var i = 0; i < Cores.Count; i++)
            t.Append($"[gateways.{Cores[i]}]\nlinks = [\"10.0.{(i + 1) / 250}.{(i + 1) % 250 + 1}:7443\"]\n");
        foreach (var e in Edges) t.Append($"[gateways.{e}]\n");
        t.Append('\n');
        for (var k = 0; k < Services; k++)
            t.Append($"[services.svc-{k + 1}]\ngateway = \"{OwnerOf(k)}\"\ntarget = \"127.0.0.1:{10000 + k % 50000}\"\n");
        t.Append('\n');
        var rng = new Random(19);
        for (var j = 0; j < Entries; j++)
        {
            var g = j % Gateways;                       // spread over every gateway, cores too
            var k = rng.Next(Services);
            if (OwnerOf(k) == All[g]) k = (k + 1) % Services;   // the next service has the next edge as owner
            t.Append($"[[entries]]\ngateway = \"{All[g]}\"\nlisten = \"{ListenAddress(g)}:{20000 + j / Gateways}\"\nservice = \"svc-{k + 1}\"\n");
        }
        return t.ToString();
    }

    /// <summary>One address per gateway (172.16.0.0/12), so every entry's listen address is unique in the whole mesh.</summary>
    private static string ListenAddress(int g) => $"172.{16 + g / 65536}.{g / 256 % 256}.{g % 256}";

    /// <summary>Each gateway's report on the links it dials (every core gateway but itself), all up.</summary>
    public Dictionary<string, LinkReport> Reports()
    {
        var rng = new Random(1919);
        return All.ToDictionary(g => g, g => new LinkReport(g, 1,
            Cores.Where(c => c != g).Select(c => new LinkStatus(c, true, Math.Round(1 + rng.NextDouble() * 39, 1))).ToArray(), "0.7.0"));
    }

    /// <summary>
    /// The core gateway <paramref name="report"/>'s gateway reaches at the lowest cost: the direct link is then its
    /// one cheapest path there, so that link going down changes at least its own next hops (a dearer link may
    /// carry no path at all).
    /// </summary>
    public static string CheapestCore(LinkReport report) => report.Links.MinBy(l => l.Cost)!.Peer;

    /// <summary><paramref name="report"/> again with a newer sequence and the link to <paramref name="peer"/> up or down.</summary>
    public static LinkReport WithLink(LinkReport report, string peer, bool up) =>
        report with
        {
            Sequence = report.Sequence + 1,
            Links = report.Links.Select(l => l.Peer == peer ? l with { Up = up } : l).ToArray(),
        };
}
