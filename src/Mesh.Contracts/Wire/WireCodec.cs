using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;

namespace Mesh.Contracts.Wire;

/// <summary>Bytes from a peer that are not a message this gateway knows; nothing is created from them.</summary>
public sealed class WireException(string message) : Exception(message);

/// <summary>
/// How every message that crosses nodes is written: JSON, named by a short manifest from a closed table
/// (never a type name taken from the wire). Used by the Akka serializer bound to
/// <see cref="IRoutingMessage"/> (between core gateways) and by an edge's control channel over links.
/// Manifests are on the wire: never reuse one for another type.
/// </summary>
public static class WireCodec
{
    private static readonly (string Manifest, Type Type)[] Known =
    [
        ("rt.get", typeof(GetRouteTable)),
        ("rt", typeof(RouteTable)),
        ("rt.same", typeof(RouteTableUnchanged)),
        ("rt.none", typeof(RouteTableUnavailable)),
        ("rt.delta", typeof(RouteTableDelta)),
        ("rt.changed", typeof(RouteMapChanged)),
        ("links", typeof(LinkReport)),
        ("links.ack", typeof(LinkReportReceived)),
        ("health", typeof(HealthReport)),
        ("health.ack", typeof(HealthReportReceived)),
        ("status.get", typeof(GetDirectorStatus)),
        ("status", typeof(DirectorStatus)),
        ("reload", typeof(ReloadConfig)),
        ("config.push", typeof(PushConfig)),
        ("view.get", typeof(GetMeshView)),
        ("view", typeof(MeshView)),
        ("routes.get", typeof(GetGatewayRoutes)),
        ("routes", typeof(GatewayRoutes)),
    ];

    private static readonly Dictionary<string, Type> ByManifest = Known.ToDictionary(k => k.Manifest, k => k.Type, StringComparer.Ordinal);
    private static readonly Dictionary<Type, string> ByType = Known.ToDictionary(k => k.Type, k => k.Manifest);

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        MaxDepth = 16,
    };

    /// <summary>Every message type the codec knows (a test checks that each cross-node message is here).</summary>
    public static IEnumerable<Type> Types => ByType.Keys;

    public static string ManifestOf(object message) =>
        ByType.TryGetValue(message.GetType(), out var m) ? m
        : throw new WireException($"{message.GetType().Name} is not a message that crosses nodes (add it to WireCodec)");

    public static byte[] ToJson(object message)
    {
        _ = ManifestOf(message);
        return JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), Json);
    }

    public static object FromJson(string manifest, ReadOnlySpan<byte> json)
    {
        if (!ByManifest.TryGetValue(manifest, out var type)) throw new WireException($"unknown message '{Safe(manifest)}'");
        try { return JsonSerializer.Deserialize(json, type, Json) ?? throw new WireException($"empty '{manifest}' message"); }
        catch (JsonException e) { throw new WireException($"malformed '{manifest}' message: {e.Message}"); }
    }

    /// <summary>One message as a control channel carries it: [manifest length u8][manifest ASCII][JSON].</summary>
    public static byte[] Frame(object message)
    {
        var manifest = Encoding.ASCII.GetBytes(ManifestOf(message));
        var json = ToJson(message);
        var bytes = new byte[1 + manifest.Length + json.Length];
        bytes[0] = (byte)manifest.Length;
        manifest.CopyTo(bytes, 1);
        json.CopyTo(bytes, 1 + manifest.Length);
        return bytes;
    }

    public static object Unframe(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 1 || bytes.Length < 1 + bytes[0]) throw new WireException("truncated control message");
        var manifest = Encoding.ASCII.GetString(bytes.Slice(1, bytes[0]));
        return FromJson(manifest, bytes[(1 + bytes[0])..]);
    }

    private static string Safe(string s) => new(s.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
