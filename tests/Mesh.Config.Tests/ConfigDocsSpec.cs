using System.Text.RegularExpressions;
using Mesh.Config;

namespace Mesh.Config.Tests;

/// <summary>docs/config.md's key table and the validator agree: a key added to one and not the other fails here, named.</summary>
public sealed class ConfigDocsSpec
{
    /// <summary>The first cell of each row of the "## Keys" table: `mesh.pool_size`, `services.NAME.gateway`, `[[entries]]`.</summary>
    private static IReadOnlySet<string> Documented()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "config.md"));
        var keys = Regex.Match(text, @"\n## Keys\n(.*?)\n## ", RegexOptions.Singleline).Groups[1].Value;
        return Regex.Matches(keys, @"^\| `([^`]+)` \|", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
    }

    /// <summary>How docs/config.md may name a key: `mesh.pool_size`; a top-level table as `mesh`, `gateways.NAME` or `[[entries]]`.</summary>
    private static IEnumerable<string> Names(ConfigTable table, string key) =>
        table.Path.Length > 0 ? [$"{table.Path}.{key}"] : [key, $"{key}.NAME", $"[[{key}]]"];

    [Fact]
    public void Every_key_the_validator_accepts_is_documented()
    {
        var documented = Documented();
        var missing = ConfigKeys.All.SelectMany(t => t.Keys.Where(k => !Names(t, k).Any(documented.Contains)).Select(k => Names(t, k).First())).ToList();
        Assert.True(missing.Count == 0, $"docs/config.md (## Keys) does not document: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_documented_key_is_one_the_validator_accepts()
    {
        var known = ConfigKeys.All.SelectMany(t => t.Keys.SelectMany(k => Names(t, k))).ToHashSet();
        var unknown = Documented().Where(d => !known.Contains(d)).ToList();
        Assert.True(unknown.Count == 0, $"docs/config.md (## Keys) documents keys the validator rejects: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void A_key_read_but_not_listed_as_allowed_is_rejected_with_the_allowed_ones()
    {
        var result = RouteMapLoader.Load("[mesh]\nname = \"m\"\npool = 3\n", "mesh.toml");
        var error = Assert.Single(result.Errors);
        Assert.Equal("mesh.toml:3: mesh.pool: unknown key (allowed here: name, pool_size, flow_idle_timeout, dial_timeout, revoked, allow, link_mode)", error.ToString());
    }
}
