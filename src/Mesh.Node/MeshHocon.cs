using System.Reflection;
using Akka.Cluster;
using Mesh.Config;
using Mesh.Contracts;
using AkkaConfig = Akka.Configuration.Config;
using ConfigurationFactory = Akka.Configuration.ConfigurationFactory;

namespace Mesh.Node;

/// <summary>Builds a node's Akka config: its own addresses and roles on top of the files in hocon/.</summary>
public static class MeshHocon
{
    public const string CoreRole = "core";
    public const string DirectorRole = "director";
    /// <summary>A member's role "gateway:NAME" says which gateway it claims to be (ClusterGuardActor checks it against its certificate).</summary>
    public const string GatewayRolePrefix = "gateway:";

    /// <summary>A core gateway's control plane (a cluster member). Seeds are joined in code (ClusterJoiner), not from the config.</summary>
    /// <param name="tls">remoting over TLS with the mesh certificates (RemotingTls); off only for in-process tests</param>
    public static AkkaConfig For(NodeOptions o, bool tls = true)
    {
        var own = CoreSettings(o) + $"\nakka.remote.dot-netty.tcp.enable-ssl = {(tls ? "on" : "off")}\n" + LoggingSettings(o.JsonLogs, o.DebugLogs);
        return ConfigurationFactory.ParseString(own)
            .WithFallback(Embedded("core.conf"))
            .WithFallback(Embedded("mesh.conf"));
    }

    /// <summary>The gateway's own actor system: local only, with the shared logging settings.</summary>
    public static AkkaConfig ForGateway(bool jsonLogs = false, bool debugLogs = false) =>
        ConfigurationFactory.ParseString("akka.actor.provider = local\n" + LoggingSettings(jsonLogs, debugLogs)).WithFallback(Embedded("mesh.conf"));

    /// <summary>
    /// Our loggers instead of Akka's (text lines that escape control characters, or JSON objects), and no plain
    /// lines from the start-up logger, which would not escape them. Events are published from INFO (DEBUG with
    /// --log-level debug); the loggers pass Akka's own from WARNING only (Logging.NodeLog), and so does the
    /// logger Akka falls back to while a system starts or stops (Logging.StdoutLogger).
    /// </summary>
    private static string LoggingSettings(bool json, bool debug)
    {
        var logger = json ? typeof(Logging.JsonLogger) : typeof(Logging.TextLogger);
        var last = typeof(Logging.StdoutLogger);
        return $"akka.loggers = [\"{logger.FullName}, {logger.Assembly.GetName().Name}\"]\nakka.stdout-loglevel = {(json ? "OFF" : "WARNING")}\n"
               + $"akka.stdout-logger-class = \"{last.FullName}, {last.Assembly.GetName().Name}\"\nakka.loglevel = {(debug ? "DEBUG" : "INFO")}";
    }

    /// <summary>A cluster member's address: with TLS on, Akka's scheme is akka.ssl.tcp; IPv6 hosts in brackets.</summary>
    public static string SeedAddress(HostPort seed, bool tls) => $"{Scheme(tls)}://{ActorPaths.SystemName}@{seed}";

    public static string Scheme(bool tls) => tls ? "akka.ssl.tcp" : "akka.tcp";

    /// <summary>The gateway a member claims to be, from its "gateway:NAME" role (its address if it has none).</summary>
    public static string NameOf(Member m) =>
        m.Roles.FirstOrDefault(r => r.StartsWith(GatewayRolePrefix)) is { } role ? role[GatewayRolePrefix.Length..] : m.Address.ToString();

    private static string CoreSettings(NodeOptions o)
    {
        var roles = string.Join(", ", new[] { CoreRole, $"{GatewayRolePrefix}{o.Name}" }.Concat(o.HostsDirector ? [DirectorRole] : []).Select(r => $"\"{r}\""));
        return $$"""
            akka.remote.dot-netty.tcp {
              hostname = "{{o.BindHost}}"
              public-hostname = "{{o.AdvertisedHost}}"
              port = {{o.EffectiveClusterPort}}
            }
            akka.cluster.roles = [{{roles}}]
            akka.cluster.distributed-data.durable.file.dir = "{{o.ReplicaDir.Replace("\\", "/")}}"
            """;
    }

    private static AkkaConfig Embedded(string file)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"hocon.{file}")
            ?? throw new InvalidOperationException($"hocon/{file} is not embedded in Mesh.Node");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
