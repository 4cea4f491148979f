using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Mesh.Contracts;
using Mesh.Director;
using Mesh.Director.Store;
using Mesh.Gateway;
using Mesh.Gateway.Control;
using Mesh.Gateway.Flows;
using Mesh.Transport.Security;

namespace Mesh.Node;

/// <summary>The composition root: which actors a node runs, for a core or an edge gateway.</summary>
public static class MeshNode
{
    /// <summary>Starts this node's actors in <paramref name="system"/> and returns the gateway actor.</summary>
    /// <param name="identity">The TLS identity for the data plane; null runs the control plane only.</param>
    public static IActorRef Start(ActorSystem system, NodeOptions o, MeshIdentity? identity)
    {
        var dataPlane = identity is null ? null : new DataPlaneSettings(identity, o.Listen is null ? null : Endpoints.Parse(o.Listen.ToString()));
        return o.IsCore ? StartCore(system, o, dataPlane) : StartEdge(system, o, dataPlane);
    }

    private static IActorRef StartCore(ActorSystem system, NodeOptions o, DataPlaneSettings? dataPlane)
    {
        var mediator = DistributedPubSub.Get(system).Mediator;
        if (o.HostsDirector)
        {
            var director = DirectorActor.Props(DirectorSettings.For(Path.GetFullPath(o.ConfigPath!)),
                new FileDirectorStore(o.DirectorStorePath), mediator);
            system.ActorOf(ClusterSingletonManager.Props(director, PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(MeshHocon.DirectorRole)), ActorPaths.DirectorManagerName);
        }
        var proxy = system.ActorOf(ClusterSingletonProxy.Props($"/user/{ActorPaths.DirectorManagerName}",
            ClusterSingletonProxySettings.Create(system).WithRole(MeshHocon.DirectorRole)), ActorPaths.DirectorProxyName);
        ClusterClientReceptionist.Get(system).RegisterService(proxy);
        return system.ActorOf(GatewayActor.Props(GatewaySettings.Core(o.Name) with { DataPlane = dataPlane },
            new SingletonProxyChannel(proxy), mediator), ActorPaths.GatewayName);
    }

    /// <remarks>With an identity (a data plane), remoting runs over TLS, so the receptionist is at akka.ssl.tcp.</remarks>
    private static IActorRef StartEdge(ActorSystem system, NodeOptions o, DataPlaneSettings? dataPlane)
    {
        var contacts = o.Join.Select(j => ActorPath.Parse($"{MeshHocon.SeedAddress(j, tls: dataPlane is not null)}/system/receptionist")).ToImmutableHashSet();
        var client = system.ActorOf(ClusterClient.Props(ClusterClientSettings.Create(system).WithInitialContacts(contacts)), "director-client");
        return system.ActorOf(GatewayActor.Props(GatewaySettings.Edge(o.Name) with { DataPlane = dataPlane },
            new ClusterClientChannel(client), mediator: null), ActorPaths.GatewayName);
    }

    /// <summary>
    /// Runs the node until <paramref name="stop"/>. If the actor system ends on its own (downed by the
    /// split-brain resolver, a failed TLS handshake), it is created again: a gateway never exits because
    /// the network failed.
    /// </summary>
    public static async Task RunAsync(NodeOptions o, MeshIdentity identity, Action<string> say, CancellationToken stop)
    {
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
                say($"cannot start the actor system: {e.GetBaseException().Message}; retrying in {backoff.TotalSeconds:0}s");
                await Pause(backoff, stop);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                continue;
            }
            backoff = TimeSpan.FromSeconds(1);
            Start(system, o, identity);
            var stopped = new TaskCompletionSource();
            await using (stop.Register(() => stopped.TrySetResult()))
                await Task.WhenAny(system.WhenTerminated, stopped.Task);
            if (stop.IsCancellationRequested)
            {
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
                return;
            }
            say("the actor system stopped on its own (lost the cluster?); starting it again");
            await Pause(TimeSpan.FromSeconds(2), stop);
        }
    }

    private static Task Pause(TimeSpan t, CancellationToken ct) =>
        Task.Delay(t, ct).ContinueWith(_ => { }, TaskScheduler.Default);
}
