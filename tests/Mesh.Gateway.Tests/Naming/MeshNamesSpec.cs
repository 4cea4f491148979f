using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Naming;

namespace Mesh.Gateway.Tests.Naming;

/// <summary>What a gateway's DNS server answers for each kind of name, straight from a route table (no sockets).</summary>
public sealed class MeshNamesSpec
{
    private static readonly RouteTable Table = new(7, "m", "core1", true,
        Entries: [new("127.0.0.1:8001", "echo", "edge1"), new("0.0.0.0:8002", "echo", "edge1"), new("[::1]:8003", "v6", "edge1")],
        Owned: [],
        Gateways: [new("core1", true, ["10.0.0.1:7443", "[2001:db8::1]:7443"]), new("core2", true, ["core2.example:7443"]), new("edge1", false, [])],
        Services: [new("echo", "edge1"), new("v6", "edge1"), new("elsewhere", "core2")],
        Flows: new(4, TimeSpan.FromHours(1), TimeSpan.FromSeconds(5)), NextHops: []);

    private static readonly IPAddress Wildcard4 = IPAddress.Parse("192.0.2.9");

    private static DnsAnswer Ask(string name, RecordType type, RouteTable? table = null) =>
        MeshNames.For(table ?? Table, DomainName.Parse(name), type, f => f == AddressFamily.InterNetwork ? Wildcard4 : IPAddress.IPv6Loopback);

    private static string[] Texts(IEnumerable<DnsRecordBase> records) => [.. records.Select(r => r.ToString())];

    [Fact]
    public void A_service_answers_its_entries_here_and_a_wildcard_entry_with_the_address_chosen_for_it()
    {
        var a = Ask("echo.mesh", RecordType.A);
        Assert.Equal(ReturnCode.NoError, a.Code);
        Assert.Equal(["127.0.0.1", "192.0.2.9"], a.Answers.Cast<ARecord>().Select(r => r.Address.ToString()));
        Assert.Equal(["::1"], Ask("V6.Mesh", RecordType.Aaaa).Answers.Cast<AaaaRecord>().Select(r => r.Address.ToString()));   // names ignore case
    }

    [Fact]
    public void An_SRV_record_per_entry_port_targets_the_service_name_with_its_addresses_as_additional_records()
    {
        var srv = Ask("_echo._tcp.mesh", RecordType.Srv);
        Assert.Equal([(8001, "echo.mesh."), (8002, "echo.mesh.")], srv.Answers.Cast<SrvRecord>().Select(r => ((int)r.Port, r.Target.ToString())));
        Assert.Equal(2, srv.Additional.OfType<ARecord>().Count());
    }

    [Fact]
    public void A_gateway_answers_its_link_addresses_that_are_IP_addresses()
    {
        Assert.Equal(["10.0.0.1"], Ask("core1.gateway.mesh", RecordType.A).Answers.Cast<ARecord>().Select(r => r.Address.ToString()));
        Assert.Equal(["2001:db8::1"], Ask("core1.gateway.mesh", RecordType.Aaaa).Answers.Cast<AaaaRecord>().Select(r => r.Address.ToString()));
        var byName = Ask("core2.gateway.mesh", RecordType.A);   // a link given as a host name: nothing to give here
        Assert.Equal((ReturnCode.NoError, 0), (byName.Code, byName.Answers.Count));
    }

    [Theory]
    [InlineData("nosuch.mesh", RecordType.A, ReturnCode.NxDomain)]
    [InlineData("_nosuch._tcp.mesh", RecordType.Srv, ReturnCode.NxDomain)]
    [InlineData("nosuch.gateway.mesh", RecordType.A, ReturnCode.NxDomain)]
    [InlineData("a.b.c.mesh", RecordType.A, ReturnCode.NxDomain)]
    [InlineData("example.org", RecordType.A, ReturnCode.Refused)]
    [InlineData("mesh.example.org", RecordType.A, ReturnCode.Refused)]
    public void Unknown_names_under_mesh_do_not_exist_and_names_outside_are_refused(string name, RecordType type, ReturnCode code)
    {
        var answer = Ask(name, type);
        Assert.Equal(code, answer.Code);
        Assert.Empty(answer.Answers);
    }

    [Fact]
    public void A_known_name_without_that_type_is_an_empty_answer_with_the_zone_SOA()
    {
        var noData = Ask("echo.mesh", RecordType.Mx);
        Assert.Equal((ReturnCode.NoError, 0), (noData.Code, noData.Answers.Count));
        Assert.IsType<SoaRecord>(Assert.Single(noData.Authority));
        var elsewhere = Ask("elsewhere.mesh", RecordType.A);   // a service with no entry on this gateway
        Assert.Equal((ReturnCode.NoError, 0), (elsewhere.Code, elsewhere.Answers.Count));
    }

    [Fact]
    public void Before_the_first_route_table_every_mesh_name_is_a_server_failure_to_ask_again()
    {
        Assert.Equal(ReturnCode.ServerFailure, MeshNames.For(null, DomainName.Parse("echo.mesh"), RecordType.A, _ => null).Code);
        Assert.Equal(ReturnCode.Refused, MeshNames.For(null, DomainName.Parse("example.org"), RecordType.A, _ => null).Code);
    }
}
