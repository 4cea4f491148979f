using Mesh.Contracts.Routing;
using Mesh.Gateway.Flows;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Gateway.Tests;

/// <summary>Who may open a flow to a service the owner serves: the origin proven by the link, or vouched for by a core relay, in the service's policy.</summary>
public sealed class FlowPolicySpec
{
    private static readonly MeshTrust Trust = TrustOf(("core1", true), ("site-a", false), ("site-b", false), ("site-c", false));

    private static MeshTrust TrustOf(params (string, bool)[] declared)
    {
        var trust = new MeshTrust();
        trust.Update(declared, []);
        return trust;
    }

    private static readonly RouteTable Owner = new(1, "m", "site-b", true, [], [], [], [], new FlowSettings(4, TimeSpan.FromHours(1), TimeSpan.FromSeconds(5)), [])
    {
        Access = [new ServiceAccess("mysql1", ["site-a"])],
    };

    private static Open OpenFrom(string origin, string service = "mysql1") =>
        new(FrameCodec.OpenVersion, Guid.NewGuid(), service, "site-b", 8, "10.0.0.9:5555", origin);

    private static GatewayIdentity Edge(string name) => new(name, GatewayRole.Edge, "sha256:" + new string('0', 64));
    private static GatewayIdentity Core(string name) => new(name, GatewayRole.Core, "sha256:" + new string('1', 64));

    [Fact]
    public void An_origin_with_an_entry_for_the_service_gets_through_directly_or_through_a_core_relay()
    {
        Assert.Null(FlowPolicy.Check(Edge("site-a"), OpenFrom("site-a"), Owner, Trust));
        Assert.Null(FlowPolicy.Check(Core("core1"), OpenFrom("site-a"), Owner, Trust));
    }

    [Fact]
    public void A_declared_gateway_without_an_entry_for_the_service_is_not_allowed()
    {
        var denied = FlowPolicy.Check(Edge("site-c"), OpenFrom("site-c"), Owner, Trust);
        Assert.Equal("site-c", denied!.Origin);
        Assert.Contains("may not reach mysql1 (its policy allows site-a)", denied.Message);
        Assert.NotNull(FlowPolicy.Check(Core("core1"), OpenFrom("site-c"), Owner, Trust));   // a relay's word does not widen the policy
    }

    [Fact]
    public void An_edge_cannot_claim_another_origin_and_neither_can_an_undeclared_or_edge_role_relay()
    {
        var forged = FlowPolicy.Check(Edge("site-c"), OpenFrom("site-a"), Owner, Trust);
        Assert.Equal("site-c", forged!.Origin);
        Assert.Contains("claims the flow comes from 'site-a'", forged.Message);
        Assert.NotNull(FlowPolicy.Check(Edge("core1"), OpenFrom("site-a"), Owner, Trust));   // core1's name on an edge certificate
        Assert.NotNull(FlowPolicy.Check(Core("core9"), OpenFrom("site-a"), Owner, Trust));   // a core certificate the config does not declare core
    }

    [Fact]
    public void A_service_this_gateway_does_not_own_has_no_policy_here_and_admits_nobody() =>
        Assert.NotNull(FlowPolicy.Check(Edge("site-a"), OpenFrom("site-a", "other"), Owner, Trust));
}
