using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Waits for a gateway's state where an operator would look for it: its /metrics (--metrics, or its API).
/// A test waits on a log line only where the line is the behaviour under test (docs/testing.md): the
/// wording of the others is free to change.
/// </summary>
public static class NodeState
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, HttpClient> InNamespace = new();

    /// <summary>A client whose connections are opened inside <paramref name="netns"/> (null: this process's own).</summary>
    private static HttpClient ClientFor(string? netns) => netns is null ? Http : InNamespace.GetOrAdd(netns, ns => new HttpClient(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) => new NetworkStream(await Sites.NetNs.ConnectAsync(ns,
            new IPEndPoint(IPAddress.Parse(context.DnsEndPoint.Host.Trim('[', ']')), context.DnsEndPoint.Port), ct), ownsSocket: true),
    }) { Timeout = TimeSpan.FromSeconds(5) });

    /// <summary>Waits until an entry accepts clients (<c>mesh_entry_listening</c> is 1).</summary>
    public static Task WaitForEntryListeningAsync(this NodeProcess node, string entry, string service, TimeSpan within) =>
        node.WaitForMetricAsync(EntryListening(entry, service), v => v == 1, within);

    /// <summary>Waits until an entry refuses clients at connect (<c>mesh_entry_listening</c> is 0: its service is down, or its address cannot be bound).</summary>
    public static Task WaitForEntryNotListeningAsync(this NodeProcess node, string entry, string service, TimeSpan within) =>
        node.WaitForMetricAsync(EntryListening(entry, service), v => v == 0, within);

    /// <summary>Waits until the gateway has no such entry any more (its series is gone from /metrics).</summary>
    public static Task WaitForEntryGoneAsync(this NodeProcess node, string entry, string service, TimeSpan within) =>
        node.WaitForMetricAsync(EntryListening(entry, service), v => v is null, within);

    /// <summary>Waits until the link to <paramref name="peer"/> has a connection ready for flows (<c>mesh_link_pool_idle</c> at least 1).</summary>
    public static Task WaitForLinkUpAsync(this NodeProcess node, string peer, TimeSpan within) =>
        node.WaitForMetricAsync($"mesh_link_pool_idle{{peer=\"{peer}\"}}", v => v >= 1, within);

    /// <summary>
    /// Waits until the gateway checks <paramref name="service"/> as its owner (<c>mesh_service_up</c> has a value):
    /// it has a route table that gives it the service. With <paramref name="up"/>, until the check says so.
    /// </summary>
    public static Task WaitForOwnedServiceAsync(this NodeProcess node, string service, TimeSpan within, bool? up = null) =>
        node.WaitForMetricAsync($"mesh_service_up{{service=\"{service}\"}}", v => v is not null && (up is null || v == (up.Value ? 1 : 0)), within);

    private static string EntryListening(string entry, string service) => $"mesh_entry_listening{{entry=\"{entry}\",service=\"{service}\"}}";

    /// <summary>
    /// Asks the gateway's /metrics until the sample <paramref name="series"/> (the name and its labels, as
    /// printed) satisfies <paramref name="done"/> (null: no such sample); returns the last value read.
    /// </summary>
    public static async Task<double?> WaitForMetricAsync(this NodeProcess node, string series, Func<double?, bool> done, TimeSpan within)
    {
        var address = node.MetricsAddress ?? throw new InvalidOperationException($"{node.Name} was started without --metrics or --api");
        double? last = null;
        var seen = false;
        if (await Poll.UntilAsync(async () =>
            {
                try { (last, seen) = (Sample(await ReadAsync(ClientFor(node.Netns), address, node.MetricsTokenFile), series), true); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }   // not serving yet
                return done(last);
            }, within))
            return last;
        throw new TimeoutException($"{node.Name}: {series} is {(seen ? last?.ToString(CultureInfo.InvariantCulture) ?? "absent" : "unknown (/metrics did not answer)")} after {within.TotalSeconds:0}s; output:\n{Tail(node)}");
    }

    private static async Task<string> ReadAsync(HttpClient http, string address, string? tokenFile)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{address}/metrics");
        if (tokenFile is not null) request.Headers.Authorization = new("Bearer", (await File.ReadAllTextAsync(tokenFile)).Trim());
        using var response = await http.SendAsync(request);
        return await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync();
    }

    /// <summary>The value of one sample in Prometheus text, or null when it is not there.</summary>
    public static double? Sample(string metrics, string series)
    {
        foreach (var line in metrics.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line.AsSpan(series.Length + 1).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
        return null;
    }

    private static string Tail(NodeProcess node) => string.Join("\n", node.Output.Split('\n').TakeLast(25));
}
