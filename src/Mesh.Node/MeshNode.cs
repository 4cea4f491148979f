using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Cluster.Tools.Singleton;
using Mesh.Config;
using Mesh.Contracts;
using Mesh.Director;
using Mesh.Director.Store;
using Mesh.Gateway;
using Mesh.Gateway.Control;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Naming;
using Mesh.Node.Api;
using Mesh.Transport.Links;
using Mesh.Transport.Security;

namespace Mesh.Node;

/// <summary>What a node starts with besides its options: its TLS identity, its bound link ports, who it admits.</summary>
public sealed record NodeParts(MeshIdentity Identity, IReadOnlyList<LinkServer> LinkServers, MeshTrust Trust, int MaxClientFlows)
{
    /// <summary>True while the process is near its file-descriptor limit (FileDescriptors.Watch).</summary>
    public Func<bool>? DescriptorsLow { get; init; }
    /// <summary>The route table in force: the gateway updates it, the DNS server (--dns) reads it.</summary>
    public RouteView Routes { get; init; } = new();
}

/// <summary>
/// The composition root. Every node runs the gateway (route table, listeners, links, flows) in an actor
/// system that lives as long as the process. A core gateway also runs the control plane (a cluster member,
/// the director singleton where it has --config), created again whenever it ends on its own (ADR 0005). An
/// edge runs no control plane: it reaches the director over its links (ADR 0010).
/// </summary>
public static class MeshNode
{
    /// <summary>The gateway actor: its route table and the data plane the table asks for.</summary>
    /// <param name="parts">the data plane; null runs the route-table client only (in-process control-plane tests)</param>
    /// <param name="director">a core gateway's channel to the director; null for an edge (its links carry it)</param>
    public static IActorRef StartGateway(ActorSystem system, NodeOptions o, NodeParts? parts, IDirectorChannel? director, IDirectorAsk? ask = null)
    {
        var dataPlane = parts is null ? null : new DataPlaneSettings(parts.Identity, parts.LinkServers)
        {
            DirectorAsk = ask, Trust = parts.Trust, MaxClientFlows = parts.MaxClientFlows, DescriptorsLow = parts.DescriptorsLow, Routes = parts.Routes,
            Join = o.IsCore ? JoinList.Of() : new JoinList(o.Join, o.JoinDns, o.DnsResolver is { } r ? new System.Net.IPEndPoint(System.Net.IPAddress.Parse(r.Host), r.Port) : null),
            Listen = o.Listen, Advertise = o.Advertise,
        };
        var settings = (o.IsCore ? GatewaySettings.Core(o.Name) : GatewaySettings.Edge(o.Name)) with { DataPlane = dataPlane };
        return system.ActorOf(GatewayActor.Props(settings, director), ActorPaths.GatewayName);
    }

    /// <summary>
    /// Starts a core gateway's control plane in <paramref name="system"/>: the cluster join, the guard that keeps
    /// the cluster to declared core gateways, the director singleton (with --config) and its proxy; returns the
    /// bridge that carries <paramref name="gateway"/>'s requests to the director.
    /// </summary>
    /// <param name="store">where the director keeps its state; null: the core gateways' replicated store (ADR 0012)</param>
    public static IActorRef StartControlPlane(ActorSystem system, NodeOptions o, IActorRef gateway, bool tls, ControlPlaneParts parts, IDirectorStore? store = null)
    {
        var mediator = DistributedPubSub.Get(system).Mediator;
        system.ActorOf(ClusterJoinActor.Props(o, parts.Remembered, tls), "cluster-join");
        system.ActorOf(ClusterGuardActor.Props(parts.Trust, parts.Peers), "cluster-guard");
        system.ActorOf(MemberLogActor.Props(), "member-log");
        if (o.HostsDirector)
        {
            var director = DirectorActor.Props(DirectorSettings.For(Path.GetFullPath(o.ConfigPath!)),
                store ?? new ReplicatedDirectorStore(system), mediator);
            system.ActorOf(ClusterSingletonManager.Props(director, PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(MeshHocon.DirectorRole)), ActorPaths.DirectorManagerName);
        }
        var proxy = system.ActorOf(ClusterSingletonProxy.Props($"/user/{ActorPaths.DirectorManagerName}",
            ClusterSingletonProxySettings.Create(system).WithRole(MeshHocon.DirectorRole)), ActorPaths.DirectorProxyName);
        return system.ActorOf(DirectorBridge.ViaSingletonProxy(proxy, mediator, gateway), "director-bridge");
    }

    /// <summary>What a core gateway's control planes share across incarnations.</summary>
    public sealed record ControlPlaneParts(MeshTrust Trust, ClusterPeers Peers, ConcurrentDictionary<HostPort, byte> Remembered)
    {
        public static ControlPlaneParts New(MeshTrust trust) => new(trust, new ClusterPeers(), new ConcurrentDictionary<HostPort, byte>());
    }

    /// <summary>A core gateway with its control plane in one actor system (in-process tests, which never restart it); returns the gateway actor.</summary>
    public static IActorRef Start(ActorSystem system, NodeOptions o, NodeParts? parts)
    {
        var channel = new BridgedDirectorChannel();
        var gateway = StartGateway(system, o, parts, channel);
        channel.Attach(StartControlPlane(system, o, gateway, tls: parts is not null, ControlPlaneParts.New(parts?.Trust ?? new MeshTrust())));
        return gateway;
    }

    /// <summary>
    /// Runs the node until <paramref name="stop"/>. A core gateway's control plane that ends on its own (downed
    /// by the split-brain resolver, a failed TLS handshake) is created again while the gateway and its flows go
    /// on: a gateway never exits because the network failed.
    /// </summary>
    public static async Task RunAsync(NodeOptions o, NodeParts parts, Action<string> say, CancellationToken stop, string? redisPassword = null)
    {
        var gatewaySystem = ActorSystem.Create(GatewaySystemName, MeshHocon.ForGateway(o.JsonLogs, o.DebugLogs));
        using var metrics = new PrometheusText();
        await using var metricsOnly = o.Metrics is null ? null : ApiServer.BuildMetricsOnly(o.Metrics, metrics);
        if (metricsOnly is not null)
        {
            await metricsOnly.StartAsync(stop);
            say($"metrics on http://{o.Metrics}/metrics");
        }
        if (!o.IsCore)
        {
            StartGateway(gatewaySystem, o, parts, director: null);
            await WaitAsync(stop);
            await gatewaySystem.Terminate();
            return;
        }

        var channel = new BridgedDirectorChannel();
        var director = new DirectorClient();
        var gateway = StartGateway(gatewaySystem, o, parts, channel, director);
        await using var redis = o.Redis is not null && o.HostsDirector
            ? await RedisDirectorStore.ConnectAsync(o.Redis, RouteMapLoader.LoadFile(o.ConfigPath!).Map?.MeshName ?? "mesh", redisPassword)
            : null;
        if (o.HostsDirector)
            say($"director state in {ReplicatedDirectorStore.Describe} ({o.ReplicaDir}){(redis is null ? "" : $" and {redis.Describe}")}");
        OwnerOnly(o.ReplicaDir);
        await using var api = o.Api is null ? null : ApiServer.Build(o, director, ApiTokens.From(o), metrics);
        if (api is not null)
        {
            await api.StartAsync(stop);
            say($"REST API on {(o.ApiCert is null ? "http" : "https")}://{o.Api} (OpenAPI: /openapi/v1.json; metrics: /metrics)");
        }
        var controlParts = ControlPlaneParts.New(parts.Trust);
        ActorSystem? current = null;
        channel.RestartRequested += reason =>
        {
            say($"restarting the control plane: {reason}");
            _ = Volatile.Read(ref current)?.Terminate();
        };
        var backoff = TimeSpan.FromSeconds(1);
        var (refusals, lastTlsHint) = (0, long.MinValue / 2);
        while (!stop.IsCancellationRequested)
        {
            ActorSystem system;
            try
            {
                system = ActorSystem.Create(ActorPaths.SystemName, BootstrapSetup.Create().WithConfig(MeshHocon.For(o, tls: true))
                    .And(RemotingTls.Setup(parts.Identity, parts.Trust, controlParts.Peers)));
            }
            catch (Exception e)
            {   // e.g. the port is still held by a dying incarnation: retry, do not exit (a taken port at start is refused by Program)
                say($"cannot start the control plane: {e.GetBaseException().Message}; retrying in {backoff.TotalSeconds:0}s");
                await Pause(backoff, stop);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                continue;
            }
            backoff = TimeSpan.FromSeconds(1);
            Volatile.Write(ref current, system);
            director.Use(system);
            IDirectorStore? store = redis is null ? null : new CompositeDirectorStore(
                [(ReplicatedDirectorStore.Describe, new ReplicatedDirectorStore(system)), (redis.Describe, redis)], say);
            var bridge = StartControlPlane(system, o, gateway, tls: true, controlParts, store);
            channel.Attach(bridge);
            var stopped = new TaskCompletionSource();
            await using (stop.Register(() => stopped.TrySetResult()))
                await Task.WhenAny(system.WhenTerminated, stopped.Task);
            channel.Detach(bridge);
            if (stop.IsCancellationRequested)
            {
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
                break;
            }
            if (TlsRefused(system))
            {   // our own dial was refused at the TLS handshake: Akka stops the whole system (notes: exit 79)
                if (Environment.TickCount64 - lastTlsHint > 60_000)
                {
                    say("the control plane stopped: a core gateway refused this gateway's certificate at the cluster's TLS handshake. The cluster admits "
                        + "only a core certificate (mesh cert issue NAME --role core) that the served mesh config declares as a core gateway and does not "
                        + "revoke, signed by the same CA (--ca); the refusing gateway's log says which. Trying again, less often");
                    lastTlsHint = Environment.TickCount64;
                }
                refusals++;
            }
            else
            {
                say("the control plane stopped on its own (downed by the cluster, or lost it); starting it again, flows go on");
                refusals = 0;
            }
            await Pause(TimeSpan.FromSeconds(Math.Min(2 << Math.Min(refusals, 4), 30)), stop);
        }
        await gatewaySystem.Terminate();
    }

    public const string GatewaySystemName = "mesh-gateway";

    /// <summary>The replica holds the whole config (targets, networks): a directory only this user can enter (0700).</summary>
    private static void OwnerOnly(string dir)
    {
        if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(dir); return; }
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The control plane ended because a TLS handshake it started failed (Akka's TlsHandshakeFailureReason).</summary>
    private static bool TlsRefused(ActorSystem system) =>
        CoordinatedShutdown.Get(system).ShutdownReason?.GetType().Name == "TlsHandshakeFailureReason";

    private static Task WaitAsync(CancellationToken stop)
    {
        var done = new TaskCompletionSource();
        stop.Register(() => done.TrySetResult());
        return done.Task;
    }

    private static Task Pause(TimeSpan t, CancellationToken ct) =>
        Task.Delay(t, ct).ContinueWith(_ => { }, TaskScheduler.Default);
}
