namespace Mesh.Contracts.Logging;

/// <summary>A count and its noun for people to read: "1 entry", "2 entries", "0 services".</summary>
public static class Plural
{
    public static string Count(int n, string one, string many) => $"{n} {(n == 1 ? one : many)}";

    /// <summary>"1 gateway", "3 gateways": nouns whose plural just adds an s.</summary>
    public static string Count(int n, string one) => Count(n, one, one + "s");

    /// <summary>A route map's size: "3 gateways, 2 services, 1 entry".</summary>
    public static string MapSize(int gateways, int services, int entries) =>
        $"{Count(gateways, "gateway")}, {Count(services, "service")}, {Count(entries, "entry", "entries")}";
}
