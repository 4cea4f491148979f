using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Mesh.Director.Store;

/// <summary>Marker: state the director keeps in the core gateways' replicated store (one serializer binding, hocon/core.conf).</summary>
public interface IStoredState;

/// <summary>
/// Writes the director's stored state for the replicated store (Akka.DistributedData): JSON under a manifest
/// from a closed table of two, like every message that crosses nodes (never a type name from the wire).
/// </summary>
public sealed class StoreSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 7412;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        DirectorState => "state",
        ObservedState => "observed",
        _ => throw new ArgumentException($"{o.GetType().Name} is not stored state"),
    };

    public override byte[] ToBinary(object obj) => obj switch
    {
        DirectorState s => JsonSerializer.SerializeToUtf8Bytes(s, Json),
        ObservedState o => System.Text.Encoding.UTF8.GetBytes(ObservedJson.Write(o)),
        _ => throw new ArgumentException($"{obj.GetType().Name} is not stored state"),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        "state" => JsonSerializer.Deserialize<DirectorState>(bytes, Json) ?? throw new System.Runtime.Serialization.SerializationException("empty stored state"),
        "observed" => ObservedJson.Read(System.Text.Encoding.UTF8.GetString(bytes)) ?? throw new System.Runtime.Serialization.SerializationException("empty observed state"),
        _ => throw new System.Runtime.Serialization.SerializationException($"unknown stored state '{manifest}'"),
    };
}
