namespace Mesh.Contracts;

/// <summary>Distributed pub-sub topics and well-known actor paths shared by all nodes.</summary>
public static class Topics
{
    /// <summary>The director announces every new route map version here (core gateways subscribe).</summary>
    public const string Routes = "mesh.routes";
}

public static class ActorPaths
{
    public const string SystemName = "mesh";
    /// <summary>The singleton manager; the director actor itself lives under it.</summary>
    public const string DirectorManagerName = "director";
    /// <summary>The singleton proxy on every core node.</summary>
    public const string DirectorProxyName = "director-proxy";
    public const string DirectorProxyPath = "/user/" + DirectorProxyName;
    public const string GatewayName = "gateway";
}
