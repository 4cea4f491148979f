using System.Reflection;
using Mesh.Config;
using Mesh.Contracts;
using AkkaConfig = Akka.Configuration.Config;
using ConfigurationFactory = Akka.Configuration.ConfigurationFactory;

namespace Mesh.Node;

/// <summary>Builds a node's Akka config: its own addresses and role on top of the files in hocon/.</summary>
public static class MeshHocon
{
    public const string CoreRole = "core";
    public const string DirectorRole = "director";
    /// <summary>A member's role "gateway:NAME" says which gateway it is (the admin shell names members so).</summary>
    public const string GatewayRolePrefix = "gateway:";

    /// <param name="tls">remoting over TLS with the mesh certificates (RemotingTls); off only for in-process tests</param>
    public static AkkaConfig For(NodeOptions o, bool tls = true)
    {
        var own = (o.IsCore ? CoreSettings(o, tls) : EdgeSettings(o)) + $"\nakka.remote.dot-netty.tcp.enable-ssl = {(tls ? "on" : "off")}\n"
            + LoggingSettings(o.JsonLogs);
        return ConfigurationFactory.ParseString(own)
            .WithFallback(Embedded(o.IsCore ? "core.conf" : "edge.conf"))
            .WithFallback(Embedded("mesh.conf"));
    }

    /// <summary>The gateway's own actor system: local only, with the shared logging settings.</summary>
    public static AkkaConfig ForGateway(bool jsonLogs = false) =>
        ConfigurationFactory.ParseString("akka.actor.provider = local\n" + LoggingSettings(jsonLogs)).WithFallback(Embedded("mesh.conf"));

    /// <summary>JSON logs: our logger instead of Akka's text one, and no plain lines from the start-up logger.</summary>
    private static string LoggingSettings(bool json) => json
        ? $"akka.loggers = [\"{typeof(Logging.JsonLogger).FullName}, {typeof(Logging.JsonLogger).Assembly.GetName().Name}\"]\nakka.stdout-loglevel = OFF"
        : "";

    /// <summary>A cluster member's address: with TLS on, Akka's scheme is akka.ssl.tcp.</summary>
    public static string SeedAddress(HostPort seed, bool tls) => $"{Scheme(tls)}://{ActorPaths.SystemName}@{seed.Host}:{seed.Port}";

    public static string Scheme(bool tls) => tls ? "akka.ssl.tcp" : "akka.tcp";

    private static string CoreSettings(NodeOptions o, bool tls)
    {
        var self = new HostPort(o.Listen!.Host, o.EffectiveClusterPort);
        var seeds = o.Join.Count > 0 ? o.Join : [self];
        var roles = string.Join(", ", new[] { CoreRole, $"{GatewayRolePrefix}{o.Name}" }.Concat(o.HostsDirector ? [DirectorRole] : []).Select(r => $"\"{r}\""));
        return $$"""
            akka.remote.dot-netty.tcp {
              hostname = "{{o.Listen.Host}}"
              public-hostname = "{{o.Listen.Host}}"
              port = {{o.EffectiveClusterPort}}
            }
            akka.cluster.seed-nodes = [{{string.Join(", ", seeds.Select(s => $"\"{SeedAddress(s, tls)}\""))}}]
            akka.cluster.roles = [{{roles}}]
            """;
    }

    private static string EdgeSettings(NodeOptions o) => $$"""
        akka.remote.dot-netty.tcp {
          hostname = "0.0.0.0"             # nobody dials an edge; it only needs an outbound association
          public-hostname = "{{o.AdvertisedHost}}"
          port = {{o.EffectiveClusterPort}}
        }
        """;

    private static AkkaConfig Embedded(string file)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"hocon.{file}")
            ?? throw new InvalidOperationException($"hocon/{file} is not embedded in Mesh.Node");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
