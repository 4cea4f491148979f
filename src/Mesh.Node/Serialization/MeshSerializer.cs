using Akka.Actor;
using Akka.Serialization;
using Mesh.Contracts.Wire;

namespace Mesh.Node.Serialization;

/// <summary>
/// The serializer bound to every message that crosses nodes (hocon/mesh.conf: Mesh.Contracts' IRoutingMessage):
/// JSON under a manifest from WireCodec's closed table, never a type name taken from the wire.
/// </summary>
public sealed class MeshSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 7411;

    public override int Identifier => Id;

    public override string Manifest(object o) => WireCodec.ManifestOf(o);

    public override byte[] ToBinary(object obj) => WireCodec.ToJson(obj);

    public override object FromBinary(byte[] bytes, string manifest) => WireCodec.FromJson(manifest, bytes);
}

/// <summary>
/// Takes the place of Akka's default JSON serializer, which writes and reads .NET type names: a message
/// no serializer is bound to fails loudly when sent, and bytes a peer marks for that serializer are refused
/// instead of being turned into whatever type they name.
/// </summary>
public sealed class NoTypeNamesSerializer(ExtendedActorSystem system) : Serializer(system)
{
    /// <summary>Akka creates the "json" serializer with its settings section (akka.actor.serialization-settings.json): ignored.</summary>
    public NoTypeNamesSerializer(ExtendedActorSystem system, Akka.Configuration.Config _) : this(system) { }

    public override int Identifier => 1;   // the id Akka's JSON serializer has: what a peer would mark such bytes with

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new InvalidOperationException($"{obj.GetType().FullName} has no serializer bound (hocon/mesh.conf); Mesh never sends type names");

    public override object FromBinary(byte[] bytes, Type? type) =>
        throw new InvalidOperationException("refused a message marked for Akka's JSON serializer (type names from the wire)");
}
