namespace Mesh.Config;

/// <summary>One problem in a config file, printed as FILE:LINE: KEY: message.</summary>
public sealed record ConfigError(string File, int Line, string Key, string Message)
{
    public override string ToString() =>
        $"{File}:{(Line > 0 ? Line.ToString() : "?")}: {(Key.Length > 0 ? Key + ": " : "")}{Message}";
}

/// <summary>Thrown when a file that must be valid (the first load) is not; carries every error.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception($"invalid config:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}")
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
