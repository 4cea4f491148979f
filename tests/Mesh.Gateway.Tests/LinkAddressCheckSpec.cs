using Mesh.Config;
using Mesh.Gateway.Link;

namespace Mesh.Gateway.Tests;

/// <summary>A core gateway's link addresses in the config against what it binds and advertises (a cloud VM behind 1:1 NAT).</summary>
public sealed class LinkAddressCheckSpec
{
    private static HostPort H(string s) => HostPort.Parse(s);

    [Fact]
    public void An_address_bound_as_written_is_served() =>
        Assert.Empty(LinkAddressCheck.Unserved(["10.0.0.5:7443"], [H("10.0.0.5:7443")], null));

    [Fact]
    public void Behind_a_1_to_1_nat_the_public_address_is_served_by_the_private_bind_when_advertised() =>
        Assert.Empty(LinkAddressCheck.Unserved(["212.3.247.26:7443"], [H("10.0.0.5:7443")], "212.3.247.26"));

    [Fact]
    public void A_wildcard_bind_serves_every_address_on_its_port_and_two_public_addresses_can_be_served()
    {
        Assert.Empty(LinkAddressCheck.Unserved(["212.3.247.26:7443", "212.4.1.1:7443"], [H("0.0.0.0:7443")], "212.3.247.26"));
        Assert.Empty(LinkAddressCheck.Unserved(["212.3.247.26:7443", "212.4.1.1:7443"], [H("212.3.247.26:7443"), H("212.4.1.1:7443")], null));
    }

    [Fact]
    public void A_wrong_port_or_a_foreign_host_is_reported()
    {
        Assert.Equal(["10.0.0.5:7444"], LinkAddressCheck.Unserved(["10.0.0.5:7444"], [H("10.0.0.5:7443")], null));
        Assert.Equal(["212.4.1.1:7443"], LinkAddressCheck.Unserved(["212.3.247.26:7443", "212.4.1.1:7443"], [H("10.0.0.5:7443")], "212.3.247.26"));
    }
}
