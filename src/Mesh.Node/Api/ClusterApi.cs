using Akka.Actor;
using Akka.Cluster;
using Mesh.Contracts.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mesh.Node.Api;

/// <param name="Gateway">the gateway's name (from its "gateway:NAME" role)</param>
/// <param name="Director">the director singleton runs on this member</param>
public sealed record ClusterMemberView(string Gateway, string Address, string Status, bool Reachable, bool Leader, bool Director, IReadOnlyList<string> Roles);

/// <param name="Self">the member serving this answer</param>
public sealed record ClusterView(string Self, string? Leader, IReadOnlyList<ClusterMemberView> Members);

/// <summary>
/// The cluster of core gateways as this node's control plane sees it (`mesh cluster show`), and the two
/// operator actions on a member: leave (graceful: the director hands over, the member's control plane
/// starts again and rejoins as a new member) and down (for a member that is gone for good).
/// </summary>
public static class ClusterApi
{
    /// <summary>The admin token is checked before these run (ApiServer); leave and down are writes.</summary>
    public static void Map(WebApplication app, DirectorClient director)
    {
        app.MapGet("/v1/cluster", async () => Cluster(director) is not { } cluster ? NoControlPlane()
            : Results.Ok(await ViewAsync(cluster, director)));
        app.MapPost("/v1/cluster/leave/{node}", (string node) => Act(node, director, "leave", (cluster, address) => cluster.Leave(address)));
        app.MapPost("/v1/cluster/down/{node}", (string node) => Act(node, director, "down", (cluster, address) => cluster.Down(address)));
    }

    private static Cluster? Cluster(DirectorClient director) =>
        director.ControlPlane is { } system && system.Settings.ProviderClass.Contains("Cluster") ? Akka.Cluster.Cluster.Get(system) : null;

    private static async Task<ClusterView> ViewAsync(Cluster cluster, DirectorClient director)
    {
        var state = cluster.State;
        var directorNode = (await director.AskAsync<DirectorStatus>(GetDirectorStatus.Instance, TimeSpan.FromSeconds(3)))?.Node;
        var members = state.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal).Select(m => new ClusterMemberView(
            NameOf(m), m.Address.ToString(), m.Status.ToString(), !state.Unreachable.Contains(m), m.Address.Equals(state.Leader),
            directorNode == m.Address.ToString(), m.Roles.Order(StringComparer.Ordinal).ToArray())).ToArray();
        return new ClusterView(cluster.SelfAddress.ToString(), state.Leader?.ToString(), members);
    }

    private static string NameOf(Member m) => MeshHocon.NameOf(m);

    private static IResult Act(string node, DirectorClient director, string action, Action<Cluster, Address> act)
    {
        if (Cluster(director) is not { } cluster) return NoControlPlane();
        var members = cluster.State.Members.ToList();
        var member = members.FirstOrDefault(m => NameOf(m) == node || m.Address.ToString() == node);
        if (member is null)
            return Results.Problem(statusCode: 404, title: "unknown cluster member",
                detail: $"no cluster member is '{Mesh.Contracts.Logging.LogText.Safe(node, 80)}' (members: {string.Join(", ", members.Select(NameOf).Order(StringComparer.Ordinal))})");
        act(cluster, member.Address);
        return Results.Accepted(value: new { action, gateway = NameOf(member), address = member.Address.ToString() });
    }

    private static IResult NoControlPlane() => Results.Problem(statusCode: 503, title: "no control plane",
        detail: "this gateway's control plane is starting again; ask again in a few seconds");
}
