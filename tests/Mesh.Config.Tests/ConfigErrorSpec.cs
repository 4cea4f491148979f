using Mesh.Config;

namespace Mesh.Config.Tests;

/// <summary>Every mistake is reported at once, with the line a user would go to and the key's path.</summary>
public sealed class ConfigErrorSpec
{
    private static IReadOnlyList<ConfigError> Errors(string toml)
    {
        var result = RouteMapLoader.Load(toml, "mesh.toml");
        Assert.False(result.IsValid);
        return result.Errors;
    }

    private static void Has(IReadOnlyList<ConfigError> errors, int line, string key, string messagePart) =>
        Assert.True(errors.Any(e => e.Line == line && e.Key == key && e.Message.Contains(messagePart)),
            $"expected line {line} {key}: ...{messagePart}...; got:\n{string.Join("\n", errors)}");

    private const string Valid = """
        [mesh]
        name = "m"
        [gateways.a]
        links = ["127.0.0.1:7443"]
        [gateways.b]
        [services.s]
        gateway = "b"
        target = "127.0.0.1:6379"
        [[entries]]
        gateway = "a"
        listen = "127.0.0.1:9000"
        service = "s"
        """;

    [Fact]
    public void A_valid_small_file_loads() => Assert.True(RouteMapLoader.Load(Valid, "mesh.toml").IsValid);

    [Fact]
    public void A_gateway_with_links_is_core_unless_its_role_says_edge_and_a_core_role_needs_links()
    {
        var map = RouteMapLoader.Load(Valid.Replace("[gateways.b]\n", "[gateways.b]\nrole = \"edge\"\nlinks = [\"10.0.0.2:7443\"]\n"), "mesh.toml").Map!;
        Assert.Equal(GatewayKind.Core, map.Gateways["a"].Kind);
        Assert.Equal(GatewayKind.Edge, map.Gateways["b"].Kind);
        Assert.True(map.Gateways["b"].AcceptsLinks);

        var errors = Errors(Valid.Replace("[gateways.b]\n", "[gateways.b]\nrole = \"core\"\n").Replace("links = [\"127.0.0.1:7443\"]", "role = \"relay\"\nlinks = [\"127.0.0.1:7443\"]"));
        Has(errors, 4, "gateways.a.role", "'relay' is not a role: write \"core\"");
        Has(errors, 7, "gateways.b.role", "a core gateway needs links");
    }

    [Fact]
    public void A_link_mode_is_pool_or_mux_for_the_mesh_and_for_a_service_and_anything_else_is_named_where_it_is()
    {
        var map = RouteMapLoader.Load(Valid.Replace("name = \"m\"\n", "name = \"m\"\nlink_mode = \"mux\"\n")
            .Replace("target = \"127.0.0.1:6379\"\n", "target = \"127.0.0.1:6379\"\nlink_mode = \"pool\"\n"), "mesh.toml").Map!;
        Assert.Equal(("mux", "pool"), (map.Settings.LinkMode, map.Services["s"].LinkMode));
        Assert.Equal(("pool", null), (RouteMapLoader.Load(Valid, "mesh.toml").Map!.Settings.LinkMode, RouteMapLoader.Load(Valid, "mesh.toml").Map!.Services["s"].LinkMode));

        var errors = Errors(Valid.Replace("name = \"m\"\n", "name = \"m\"\nlink_mode = \"fast\"\n")
            .Replace("target = \"127.0.0.1:6379\"\n", "target = \"127.0.0.1:6379\"\nlink_mode = \"multiplexed\"\n"));
        Has(errors, 3, "mesh.link_mode", "must be \"pool\" (a connection per flow) or \"mux\" (flows as streams of a few connections), not \"fast\"");
        Has(errors, 10, "services.s.link_mode", "not \"multiplexed\"");
        Assert.Equal(2, errors.Count);
    }

    /// <summary>Gateway a owning one service per check, s0, s1, …: service i's check is on line 7 + 4i.</summary>
    private static string WithChecks(params string[] checks) => "[mesh]\nname = \"m\"\n[gateways.a]\n"
        + string.Concat(checks.Select((c, i) => $"[services.s{i}]\ngateway = \"a\"\ntarget = \"127.0.0.1:{6000 + i}\"\ncheck = {c}\n"));

    [Fact]
    public void A_redis_check_names_the_environment_variable_of_its_password_and_no_other_check_may()
    {
        var ok = RouteMapLoader.Load(WithChecks("""{ kind = "redis", password_env = "REDIS_R_PASSWORD" }"""), "mesh.toml");
        Assert.Equal("REDIS_R_PASSWORD", ok.Map!.Services["s0"].Check.PasswordEnv);

        var errors = Errors(WithChecks("""{ kind = "http", password_env = "X" }""", """{ kind = "redis", password_env = "not a name" }"""));
        Has(errors, 7, "services.s0.check.password_env", "is only used by checks of kind \"redis\"");
        Has(errors, 11, "services.s1.check.password_env", "'not a name' is not an environment variable name");
    }

    [Fact]
    public void A_mysql_check_names_the_user_it_logs_in_as_and_no_other_check_may()
    {
        var ok = RouteMapLoader.Load(WithChecks("""{ kind = "mysql", user = "meshcheck" }""", """{ kind = "mysql" }"""), "mesh.toml");
        Assert.Equal("meshcheck", ok.Map!.Services["s0"].Check.User);
        Assert.Null(ok.Map.Services["s1"].Check.User);

        var errors = Errors(WithChecks("""{ kind = "redis", user = "meshcheck" }""", """{ kind = "mysql", user = "mesh check" }""",
            """{ kind = "mysql", user = "" }"""));
        Has(errors, 7, "services.s0.check.user", "is only used by checks of kind \"mysql\"");
        Has(errors, 11, "services.s1.check.user", "'mesh check' is not a MySQL user name");
        Has(errors, 15, "services.s2.check.user", "'' is not a MySQL user name");
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void Entries_split_by_another_table_are_refused_with_both_places_rather_than_one_silently_dropped()
    {
        var errors = Errors(Valid + """

            [services.t]
            gateway = "b"
            target = "127.0.0.1:6380"
            [[entries]]
            gateway = "a"
            listen = "127.0.0.1:9001"
            service = "t"
            """);
        Has(errors, 16, "entries", "separated from the [[entries]] at line 9 by [services.t] at line 13");
    }

    [Fact]
    public void A_file_with_many_mistakes_reports_each_with_its_line()
    {
        var errors = Errors("""
            [mesh]
            name = "m"
            colour = "blue"
            [gateways.a]
            links = ["127.0.0.1:7443", "nohost", "10.0.0.1:99999"]
            [gateways.b]
            [services.s]
            gateway = "zz"
            target = "127.0.0.1"
            check = { kind = "icmp", interval = "5 sec" }
            [services.t]
            target = "127.0.0.1:80"
            check = { kind = "http", timeout = "fast", path = "health" }
            [[entries]]
            gateway = "a"
            listen = "127.0.0.1:9000"
            service = "s"
            [[entries]]
            gateway = "a"
            listen = "127.0.0.1:9000"
            service = "nosuch"
            [[entries]]
            gateway = "c"
            listen = "127.0.0.1:7443"
            [[entries]]
            gateway = "a"
            listen = "127.0.0.1:7443"
            service = "s"
            lissen = "x"
            """);
        Has(errors, 3, "mesh.colour", "unknown key");
        Has(errors, 5, "gateways.a.links", "'nohost' is not HOST:PORT");
        Has(errors, 5, "gateways.a.links", "port '99999'");
        Has(errors, 8, "services.s.gateway", "unknown gateway 'zz'");
        Has(errors, 9, "services.s.target", "'127.0.0.1' is not HOST:PORT");
        Has(errors, 10, "services.s.check.kind", "unknown check kind 'icmp'");
        Has(errors, 10, "services.s.check.interval", "'5 sec' is not a duration");
        Has(errors, 11, "services.t.gateway", "is required");
        Has(errors, 13, "services.t.check.timeout", "'fast' is not a duration");
        Has(errors, 13, "services.t.check.path", "must start with '/'");
        Has(errors, 20, "entries[1].listen", "already used on gateway 'a' by entries[0]");
        Has(errors, 21, "entries[1].service", "unknown service 'nosuch'");
        Has(errors, 23, "entries[2].gateway", "unknown gateway 'c'");
        Has(errors, 22, "entries[2].service", "is required");
        Has(errors, 27, "entries[3].listen", "is the link address of gateway 'a'");
        Has(errors, 29, "entries[3].lissen", "unknown key");
        Assert.True(16 == errors.Count, string.Join("\n", errors));
    }

    [Fact]
    public void Syntax_errors_are_reported_with_their_line_and_nothing_else_is_checked()
    {
        var errors = Errors("[mesh]\nname = \"m\"\n[gateways.a\nlinks = [\n");
        Assert.All(errors, e => Assert.Equal("mesh.toml", e.File));
        Assert.Contains(errors, e => e.Line == 3);
    }

    [Fact]
    public void A_key_defined_twice_is_an_error_on_its_line()
    {
        var errors = Errors("[mesh]\nname = \"m\"\nname = \"n\"\n");
        Assert.Contains(errors, e => e.Line == 3);
    }

    [Fact]
    public void Wrong_value_types_name_what_was_found()
    {
        var errors = Errors("""
            [mesh]
            name = 42
            [gateways.a]
            links = "127.0.0.1:7443"
            [services.s]
            gateway = "a"
            target = "127.0.0.1:1"
            check = { kind = "tcp", rise = 0, fall = "3" }
            """);
        Has(errors, 2, "mesh.name", "must be a string, not the integer 42");
        Has(errors, 4, "gateways.a.links", "must be an array of strings");
        Has(errors, 8, "services.s.check.rise", "must be from 1 to 100, not 0");
        Has(errors, 8, "services.s.check.fall", "must be an integer");
    }

    [Fact]
    public void Names_must_be_dns_labels_because_they_become_host_and_certificate_names()
    {
        var errors = Errors("""
            [mesh]
            name = "m"
            [gateways.Site_A]
            """);
        Has(errors, 3, "gateways.Site_A", "is not a valid name");
    }

    [Fact]
    public void A_missing_mesh_table_is_reported()
    {
        var errors = Errors("[gateways.a]\n");
        Has(errors, 1, "mesh", "is required");
    }

    [Fact]
    public void An_unreadable_file_is_one_clear_error()
    {
        var result = RouteMapLoader.LoadFile("/nonexistent/mesh.toml");
        Assert.Contains("cannot read the file", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void Errors_print_as_file_line_key_message() =>
        Assert.Equal("f.toml:7: services.s.target: is required", new ConfigError("f.toml", 7, "services.s.target", "is required").ToString());
}
