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

    /// <summary>The observed state, beside the state file.</summary>
    private string ObservedPath => System.IO.Path.ChangeExtension(Path, ".observed.json");

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
            await ReplaceAsync(Path, JsonSerializer.SerializeToUtf8Bytes(state, Json), ct);
            return true;
        }
        finally { _gate.Release(); }
    }

    public async Task<ObservedState?> LoadObservedAsync(CancellationToken ct) =>
        File.Exists(ObservedPath) ? ObservedJson.Read(await File.ReadAllTextAsync(ObservedPath, ct)) : null;

    public async Task<bool> SaveObservedAsync(ObservedState state, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (await LoadObservedAsync(ct) is { } current && current.Revision > state.Revision) return false;
            await ReplaceAsync(ObservedPath, System.Text.Encoding.UTF8.GetBytes(ObservedJson.Write(state)), ct);
            return true;
        }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// Write to a temp file, then rename: a crash mid-write leaves the previous file. Owner-only (0600) from
    /// the first byte, in an owner-only directory: the state holds the whole config (targets, networks).
    /// </summary>
    private static async Task ReplaceAsync(string path, byte[] content, CancellationToken ct)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
        else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = path + ".tmp";
        File.Delete(temp);   // a leftover (or a planted link) is replaced, never written through
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var file = new FileStream(temp, options)) await file.WriteAsync(content, ct);
        File.Move(temp, path, overwrite: true);
    }
}
