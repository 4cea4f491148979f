using System.CommandLine;

namespace Mesh.Cli.Admin;

/// <summary>
/// Tab completion for the shell: the commands and subcommands of the command tree, then, where a command
/// takes a gateway (routes, cluster leave, cluster down), the gateway names the API knows.
/// </summary>
public sealed class Completer(RootCommand root, Func<Task<IReadOnlyList<string>>> gatewayNames)
{
    private static readonly string[] Builtins = ["help", "exit"];
    private IReadOnlyList<string>? _gateways;

    /// <summary>Every word that completes the last word of <paramref name="line"/>, sorted.</summary>
    public IReadOnlyList<string> Complete(string line)
    {
        var words = Shell.Words(line);
        var typing = line.Length == 0 || char.IsWhiteSpace(line[^1]) ? "" : words[^1];
        var before = typing.Length == 0 ? words : words[..^1];
        Command command = root;
        foreach (var w in before)
        {
            if (command.Subcommands.FirstOrDefault(c => c.Name == w) is not { } sub) { command = null!; break; }
            command = sub;
        }
        IEnumerable<string> candidates = command switch
        {
            null => [],
            RootCommand => command.Subcommands.Where(c => !c.Hidden && c.Name != "shell").Select(c => c.Name).Concat(Builtins),
            _ when command.Subcommands.Count > 0 => command.Subcommands.Select(c => c.Name),
            _ when command.Arguments.Any(a => a.Name is "GATEWAY" or "NODE") && before.Length == Depth(command) => Gateways(),
            _ => [],
        };
        return candidates.Where(c => c.StartsWith(typing, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>How many words name <paramref name="command"/> ("cluster leave": 2).</summary>
    private static int Depth(Command command) => command.Parents.OfType<Command>().Count(c => c is not RootCommand) + 1;

    private IReadOnlyList<string> Gateways() => _gateways ??= gatewayNames().GetAwaiter().GetResult();
}
