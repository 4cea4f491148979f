using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Mesh.Config;
using Mesh.Contracts;
using Mesh.Director;
using Mesh.Director.Store;
using Mesh.Gateway;
using Mesh.Gateway.Control;
using Mesh.Gateway.Flows;
using Mesh.Node.Api;
using Mesh.Transport.Security;

namespace Mesh.Node;

/// <summary>
/// The composition root. A node runs two actor systems: the gateway (route table, listeners, links,
/// flows), which lives as long as the process, and the control plane (cluster member or ClusterClient,
/// the director singleton on core nodes), which is created again whenever it ends on its own (ADR 0005).
/// </summary>
public static class MeshNode
{
    /// <summary>The gateway actor: its route table and the data plane the table asks for.</summary>
    /// <param name="identity">The TLS identity for the data plane; null runs the control plane only.</param>
    public static IActorRef StartGateway(ActorSystem system, NodeOptions o, MeshIdentity? identity, IDirectorChannel director)
    {
        var dataPlane = identity is null ? null : new DataPlaneSettings(identity, o.Listen is null ? null : Endpoints.Parse(o.Listen.ToString()));
        var settings = (o.IsCore ? GatewaySettings.Core(o.Name) : GatewaySettings.Edge(o.Name)) with { DataPlane = dataPlane };
        return system.ActorOf(GatewayActor.Props(settings, director), ActorPaths.GatewayName);
    }

    /// <summary>
    /// Starts the control plane in <paramref name="system"/> (the director singleton on core nodes that
    /// have a config, its proxy and receptionist; a ClusterClient on edges) and returns the bridge that
    /// carries <paramref name="gateway"/>'s requests to the director.
    /// </summary>
    /// <param name="tls">remoting runs over TLS, so the receptionists are at akka.ssl.tcp (edges)</param>
    /// <param name="store">where the director keeps its state; null: the embedded file store under --state-dir</param>
    public static IActorRef StartControlPlane(ActorSystem system, NodeOptions o, IActorRef gateway, bool tls, IDirectorStore? store = null)
    {
        if (!o.IsCore)
        {
            var contacts = o.Join.Select(j => ActorPath.Parse($"{MeshHocon.SeedAddress(j, tls)}/system/receptionist")).ToImmutableHashSet();
            var client = system.ActorOf(ClusterClient.Props(ClusterClientSettings.Create(system).WithInitialContacts(contacts)), "director-client");
            return system.ActorOf(DirectorBridge.ViaClusterClient(client, gateway), "director-bridge");
        }
        var mediator = DistributedPubSub.Get(system).Mediator;
        if (o.HostsDirector)
        {
            var director = DirectorActor.Props(DirectorSettings.For(Path.GetFullPath(o.ConfigPath!)),
                store ?? new FileDirectorStore(o.DirectorStorePath), mediator);
            system.ActorOf(ClusterSingletonManager.Props(director, PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(MeshHocon.DirectorRole)), ActorPaths.DirectorManagerName);
        }
        var proxy = system.ActorOf(ClusterSingletonProxy.Props($"/user/{ActorPaths.DirectorManagerName}",
            ClusterSingletonProxySettings.Create(system).WithRole(MeshHocon.DirectorRole)), ActorPaths.DirectorProxyName);
        ClusterClientReceptionist.Get(system).RegisterService(proxy);
        return system.ActorOf(DirectorBridge.ViaSingletonProxy(proxy, mediator, gateway), "director-bridge");
    }

    /// <summary>Both in one actor system (in-process tests, which never restart it); returns the gateway actor.</summary>
    public static IActorRef Start(ActorSystem system, NodeOptions o, MeshIdentity? identity)
    {
        var channel = new BridgedDirectorChannel();
        var gateway = StartGateway(system, o, identity, channel);
        channel.Attach(StartControlPlane(system, o, gateway, tls: identity is not null));
        return gateway;
    }

    /// <summary>
    /// Runs the node until <paramref name="stop"/>. If the control plane's actor system ends on its own
    /// (downed by the split-brain resolver, a failed TLS handshake), it is created again while the gateway
    /// and its flows go on: a gateway never exits because the network failed.
    /// </summary>
    public static async Task RunAsync(NodeOptions o, MeshIdentity identity, Action<string> say, CancellationToken stop)
    {
        var gatewaySystem = ActorSystem.Create(GatewaySystemName, MeshHocon.ForGateway(o.JsonLogs));
        var channel = new BridgedDirectorChannel();
        var gateway = StartGateway(gatewaySystem, o, identity, channel);
        await using var redis = o.Redis is not null && o.HostsDirector
            ? await RedisDirectorStore.ConnectAsync(o.Redis, RouteMapLoader.LoadFile(o.ConfigPath!).Map?.MeshName ?? "mesh")
            : null;
        if (redis is not null) say($"director state in {redis.Describe}");
        var director = new DirectorClient();
        using var metrics = new PrometheusText();
        await using var api = o.Api is null ? null : ApiServer.Build(o.Api, director, o.ApiToken(), metrics);
        if (api is not null)
        {
            await api.StartAsync(stop);
            say($"REST API on http://{o.Api} (OpenAPI: /openapi/v1.json; metrics: /metrics; writes {(o.ApiToken() is null ? "off: no token" : "need the token")})");
        }
        await using var metricsOnly = o.Metrics is null ? null : ApiServer.BuildMetricsOnly(o.Metrics, metrics);
        if (metricsOnly is not null)
        {
            await metricsOnly.StartAsync(stop);
            say($"metrics on http://{o.Metrics}/metrics");
        }
        ActorSystem? current = null;
        channel.RestartRequested += reason =>
        {
            say($"restarting the control plane: {reason}");
            _ = Volatile.Read(ref current)?.Terminate();
        };
        var backoff = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            ActorSystem system;
            try
            {
                system = ActorSystem.Create(ActorPaths.SystemName,
                    BootstrapSetup.Create().WithConfig(MeshHocon.For(o, tls: true)).And(RemotingTls.Setup(identity)));
            }
            catch (Exception e)
            {   // e.g. the port is still held by a dying process: retry, do not exit
                say($"cannot start the control plane: {e.GetBaseException().Message}; retrying in {backoff.TotalSeconds:0}s");
                await Pause(backoff, stop);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                continue;
            }
            backoff = TimeSpan.FromSeconds(1);
            Volatile.Write(ref current, system);
            director.Use(system);
            var bridge = StartControlPlane(system, o, gateway, tls: true, redis);
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
            say("the control plane stopped on its own (downed by the cluster, or lost it); starting it again, flows go on");
            await Pause(TimeSpan.FromSeconds(2), stop);
        }
        await gatewaySystem.Terminate();
    }

    public const string GatewaySystemName = "mesh-gateway";

    private static Task Pause(TimeSpan t, CancellationToken ct) =>
        Task.Delay(t, ct).ContinueWith(_ => { }, TaskScheduler.Default);
}
