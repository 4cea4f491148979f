using System.Reflection;

namespace Mesh.Contracts;

/// <summary>The version of Mesh this process runs ("0.7.0+commit"), as gateways report it to the director.</summary>
public static class MeshVersion
{
    public static readonly string Current =
        typeof(MeshVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
