using System.Text.RegularExpressions;

namespace Mesh.EndToEnd.Tests.Sites;

/// <summary>
/// One run's copy of a topology script (Seed/seed.sh, Lan/lan.sh): its namespaces are PREFIX-HOST, and PREFIX
/// is the suite's letters and the test process's id, so that a later run tells a killed run's namespaces
/// (its process gone) from those of a run still going. Every script takes COMMAND PREFIX [ARGS...] and
/// answers up, down and bytes.
/// </summary>
public sealed class Topology(string script, string letters)
{
    private bool _up;

    public string Prefix { get; } = $"{letters}{Environment.ProcessId}";

    public string Ns(string host) => $"{Prefix}-{host}";

    /// <summary>Runs the script's <paramref name="command"/> for this run; throws with its output if it fails.</summary>
    public string Run(string command, params string[] args) => Run(command, Prefix, args);

    private string Run(string command, string prefix, string[] args)
    {
        var (code, output) = NetNs.Run("bash", [script, command, prefix, .. args]);
        if (code != 0) throw new InvalidOperationException($"{Path.GetFileName(script)} {command} {prefix} {string.Join(' ', args)} failed ({code}): {output}");
        return output;
    }

    /// <summary>Removes what runs that were killed left (this prefix's too), then builds the topology.</summary>
    public void Up()
    {
        var (_, list) = NetNs.Run("ip", "netns", "list");
        var leftovers = list.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => Regex.Match(l, $@"^({letters}(\d+))-[a-z0-9-]+"))
            .Where(m => m.Success && (m.Groups[1].Value == Prefix || !Directory.Exists($"/proc/{m.Groups[2].Value}")))
            .Select(m => m.Groups[1].Value).Append(Prefix).Distinct();
        foreach (var prefix in leftovers) Run("down", prefix, []);
        Run("up");
        _up = true;
    }

    public void Down()
    {
        if (_up) Run("down");
        _up = false;
    }

    /// <summary>Bytes received and sent so far on <paramref name="host"/>'s uplink (a router's wan).</summary>
    public (long Rx, long Tx) Bytes(string host)
    {
        var parts = Run("bytes", host).Trim().Split(' ');
        return (long.Parse(parts[0]), long.Parse(parts[1]));
    }
}
