using System.Text.Json;

namespace Mesh.Director.Store;

/// <summary>
/// The embedded default store: one JSON file, replaced atomically (write to a temp file, then rename),
/// so a crash mid-write leaves the previous state. Serves a one-machine demo without Redis.
/// </summary>
public sealed class FileDirectorStore(string path) : IDirectorStore
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Path { get; } = path;

    public async Task<DirectorState?> LoadAsync(CancellationToken ct)
    {
        if (!File.Exists(Path)) return null;
        await using var file = File.OpenRead(Path);
        return await JsonSerializer.DeserializeAsync<DirectorState>(file, Json, ct);
    }

    public async Task<bool> SaveAsync(DirectorState state, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (await LoadAsync(ct) is { } current && current.Revision > state.Revision) return false;
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
            var temp = Path + ".tmp";
            await File.WriteAllBytesAsync(temp, JsonSerializer.SerializeToUtf8Bytes(state, Json), ct);
            File.Move(temp, Path, overwrite: true);
            return true;
        }
        finally { _gate.Release(); }
    }
}
