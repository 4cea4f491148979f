using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Director.Store;

/// <summary>The observed state as JSON (both stores): readable with redis-cli or an editor, enums by name.</summary>
internal static class ObservedJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static string Write(ObservedState state) => JsonSerializer.Serialize(state, Options);

    public static ObservedState? Read(string json) => JsonSerializer.Deserialize<ObservedState>(json, Options);
}
