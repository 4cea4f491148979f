using System.Net;
using Mesh.Config;
using Mesh.Gateway.Naming;
using Mesh.Tests.Shared;

namespace Mesh.Gateway.Tests.Naming;

/// <summary>An edge's --join with dns:NAME, looked up on a real DNS server on loopback (the test's own zone).</summary>
public sealed class JoinListSpec : IDisposable
{
    private const string Name = "_mesh._tcp.example.org";
    private readonly TestZone _zone = new();

    public void Dispose() => _zone.Dispose();

    private JoinList Join(params HostPort[] fixedAddresses) =>
        new(fixedAddresses, [Name], new IPEndPoint(IPAddress.Loopback, _zone.Port));

    [Fact]
    public async Task Fixed_addresses_come_first_then_each_SRV_record_as_its_target_address_and_port()
    {
        _zone.Srv(Name, "core1.example.org", 7443);
        var found = await Join(new HostPort("10.0.0.9", 7443)).ResolveAsync(default);
        Assert.Null(found.Problem);
        Assert.Equal([new HostPort("10.0.0.9", 7443), new HostPort("127.0.0.1", 7443)], found.Addresses);
    }

    [Fact]
    public async Task Each_lookup_asks_again_so_a_changed_record_is_seen_at_the_next_one()
    {
        var join = Join();
        _zone.Srv(Name, "core1.example.org", 7443);
        Assert.Equal([new HostPort("127.0.0.1", 7443)], (await join.ResolveAsync(default)).Addresses);
        _zone.Srv(Name, "core1.example.org", 7444);
        Assert.Equal([new HostPort("127.0.0.1", 7444)], (await join.ResolveAsync(default)).Addresses);
    }

    [Fact]
    public async Task A_name_without_records_is_a_problem_and_a_failed_lookup_keeps_the_last_answer()
    {
        var join = Join();
        var none = await join.ResolveAsync(default);
        Assert.Empty(none.Addresses);
        Assert.Contains($"SRV lookup of {Name} failed", none.Problem);

        _zone.Srv(Name, "core1.example.org", 7443);
        Assert.Single((await join.ResolveAsync(default)).Addresses);
        _zone.Dispose();   // the resolver goes away
        var kept = await join.ResolveAsync(default);
        Assert.Equal([new HostPort("127.0.0.1", 7443)], kept.Addresses);
        Assert.Contains("using its last answer", kept.Problem);
    }
}
