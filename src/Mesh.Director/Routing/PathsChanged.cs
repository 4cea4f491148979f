namespace Mesh.Director.Routing;

/// <summary>
/// Which tables a change of links may alter. <paramref name="Everything"/>: a link between relays changed, any path
/// may differ. Otherwise only the tables of <paramref name="Sources"/> (their own links changed) and those with a next
/// hop to one of <paramref name="Destinations"/> (a relay's path to it changed).
/// </summary>
public sealed record PathsChanged(bool Everything, IReadOnlySet<string> Sources, IReadOnlySet<string> Destinations)
{
    /// <summary>Any table may differ (a new config, a link between relays).</summary>
    public static readonly PathsChanged All = new(true, new HashSet<string>(), new HashSet<string>());

    /// <summary>Both changes at once (a table held for its version number waits while more change).</summary>
    public PathsChanged And(PathsChanged other) =>
        Everything || other.Everything ? All
        : new(false, Sources.Union(other.Sources, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal),
            Destinations.Union(other.Destinations, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal));
}
