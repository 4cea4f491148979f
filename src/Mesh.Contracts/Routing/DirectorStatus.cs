namespace Mesh.Contracts.Routing;

/// <summary>Asks the director where it runs and what it serves.</summary>
public sealed record GetDirectorStatus : IRoutingMessage
{
    public static readonly GetDirectorStatus Instance = new();
}

/// <summary>The director's answer: its node address, the route map version, and why no map is served, if so.</summary>
public sealed record DirectorStatus(string Node, long Version, string ConfigPath, IReadOnlyList<string> ConfigErrors) : IRoutingMessage;

/// <summary>Reload the config file now (the API's POST /v1/reload); answered with the director's status after it.</summary>
public sealed record ReloadConfig : IRoutingMessage
{
    public static readonly ReloadConfig Instance = new();
}
