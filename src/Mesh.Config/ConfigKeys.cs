namespace Mesh.Config;

/// <summary>
/// One table of the config file and the keys the validator accepts in it. <paramref name="Path"/> is the
/// table as docs/config.md names its keys ("services.NAME", "check"; "" for the file's top level).
/// </summary>
public sealed record ConfigTable(string Path, IReadOnlyList<string> Keys)
{
    /// <summary>The keys as a reader writes them in a message: "name, pool_size, …".</summary>
    public override string ToString() => string.Join(", ", Keys);
}

/// <summary>Every key the config accepts, per table: the validator rejects any other, and docs/config.md documents each.</summary>
public static class ConfigKeys
{
    public static readonly ConfigTable Top = new("", ["mesh", "gateways", "services", "entries"]);
    public static readonly ConfigTable Mesh = new("mesh", ["name", "pool_size", "flow_idle_timeout", "dial_timeout", "revoked", "allow", "link_mode"]);
    public static readonly ConfigTable Gateway = new("gateways.NAME", ["links", "role"]);
    public static readonly ConfigTable Service = new("services.NAME", ["gateway", "target", "check", "allow", "link_mode"]);
    public static readonly ConfigTable Check = new("check", ["kind", "interval", "timeout", "rise", "fall", "path", "password_env", "user"]);
    public static readonly ConfigTable Entry = new("entries", ["gateway", "listen", "service", "allow", "max_connections"]);

    public static readonly IReadOnlyList<ConfigTable> All = [Top, Mesh, Gateway, Service, Check, Entry];
}
