using Mesh.Config;
using Mesh.Director.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>What the config says about a check reaches the owner in its route table, and only the owner.</summary>
public sealed class OwnedCheckSpec
{
    [Fact]
    public void A_mysql_checks_user_travels_to_the_owner_with_the_rest_of_its_check()
    {
        var map = RouteMapLoader.Load("""
            [mesh]
            name = "m"
            [gateways.core1]
            links = ["127.0.0.1:7443"]
            [gateways.site-b]
            [services.db]
            gateway = "site-b"
            target = "127.0.0.1:3306"
            check = { kind = "mysql", user = "meshcheck", interval = "2s" }
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:9000"
            service = "db"
            """, "mesh.toml").Map!;
        var check = Assert.Single(RouteTables.For(map, 1, "site-b").Owned).Check;
        Assert.Equal(("mysql", "meshcheck", TimeSpan.FromSeconds(2)), (check.Kind, check.User, check.Interval));
        Assert.Empty(RouteTables.For(map, 1, "core1").Owned);
    }
}
