using Mesh.Contracts.Routing;

namespace Mesh.Director;

/// <summary>The mesh as the API shows it: services with their health, entries, gateways, links, events.</summary>
public sealed partial class DirectorActor
{
    private MeshView View()
    {
        if (_map is not { } map) return new MeshView(_revision, [], [], [], [], _events.ToArray());
        var entries = map.Entries.Select(e => new EntryView(e.Gateway, e.Listen.ToString(), e.Service, map.Services[e.Service].Gateway)).ToArray();
        var services = map.Services.Values.OrderBy(sv => sv.Name, StringComparer.Ordinal).Select(sv =>
        {
            var check = sv.Check.Kind.ToString().ToLowerInvariant();
            var (health, reason, since) = HealthOf(sv.Name, sv.Gateway, check);
            return new ServiceView(sv.Name, sv.Gateway, sv.Target.ToString(), check,
                entries.Where(e => e.Service == sv.Name).Select(e => $"{e.Gateway} {e.Listen}").ToArray(), health, reason, since);
        }).ToArray();
        return new MeshView(_revision, services, entries,
            map.Gateways.Values.OrderBy(g => g.Name, StringComparer.Ordinal).Select(GatewayViewOf).ToArray(),
            Links.Select(l => new LinkView(l.A, l.B, l.Cost)).ToArray(), _events.ToArray());
    }
}
