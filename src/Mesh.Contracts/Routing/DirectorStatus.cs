namespace Mesh.Contracts.Routing;

/// <summary>Asks the director where it runs and what it serves.</summary>
public sealed record GetDirectorStatus : IRoutingMessage
{
    public static readonly GetDirectorStatus Instance = new();
}

/// <summary>
/// The director's answer: its node address, the config revision it serves and where that came from, and
/// the errors of the last config it was given, if it refused it (the served revision stays).
/// </summary>
/// <param name="ConfigPath">the director's own config file</param>
/// <param name="Source">where the served revision came from: a file (on which node), or a push through the API</param>
/// <param name="FileDiffers">the director's file differs from the served revision (it is applied when it changes, or pushed)</param>
public sealed record DirectorStatus(string Node, long Version, string ConfigPath, IReadOnlyList<string> ConfigErrors) : IRoutingMessage
{
    public string Source { get; init; } = "";
    public DateTimeOffset? AppliedAt { get; init; }
    public bool FileDiffers { get; init; }
}

/// <summary>Reload the config file now (the API's POST /v1/reload); answered with the director's status after it.</summary>
public sealed record ReloadConfig : IRoutingMessage
{
    public static readonly ReloadConfig Instance = new();
}

/// <summary>
/// Apply this config text as the next revision (PUT /v1/config, `mesh config push FILE`): validated like
/// the file, refused with every error (the served revision stays), else stored and published. Answered
/// with <see cref="DirectorStatus"/>.
/// </summary>
/// <param name="Source">who pushed it, for the status and the events (e.g. "pushed through the API by 10.0.0.5")</param>
public sealed record PushConfig(string Text, string Source) : IRoutingMessage;
