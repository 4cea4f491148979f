using Akka.Actor;
using Mesh.Contracts;
using Mesh.Gateway.Control;

namespace Mesh.Node.Api;

/// <summary>
/// How the API (and the edges' control channels this core gateway carries) ask the director: through the
/// singleton proxy of the control plane running now (the node's restart loop replaces it, ADR 0005). Null
/// when the director does not answer in time.
/// </summary>
public sealed class DirectorClient : IDirectorAsk
{
    private volatile ActorSystem? _controlPlane;

    public void Use(ActorSystem? controlPlane) => _controlPlane = controlPlane;

    /// <summary>The control plane running now (a cluster member: the API runs on core gateways), or null between two.</summary>
    public ActorSystem? ControlPlane => _controlPlane;

    public async Task<T?> AskAsync<T>(object message, TimeSpan timeout) where T : class => await AskAsync(message, timeout) as T;

    public async Task<object?> AskAsync(object message, TimeSpan timeout)
    {
        if (_controlPlane is not { } system) return null;
        try { return await system.ActorSelection($"/user/{ActorPaths.DirectorProxyName}").Ask<object>(message, timeout); }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or ActorNotFoundException) { return null; }
    }
}
