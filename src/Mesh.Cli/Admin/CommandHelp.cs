using System.CommandLine;
using System.CommandLine.Help;
using System.Text;

namespace Mesh.Cli.Admin;

/// <summary>What a command alone prints, and the shell's own `help`.</summary>
public static class CommandHelp
{
    /// <summary>The command alone (`mesh config`) prints its help, which lists its subcommands, instead of an error.</summary>
    public static Command ListingSubcommands(this Command command)
    {
        command.SetAction(r => new HelpAction().Invoke(r));
        return command;
    }

    /// <summary>
    /// `help` in the shell: the commands typed there (not `shell`, nor the flags of `mesh` itself), the shell's
    /// own words, and which API it talks to and how to talk to another.
    /// </summary>
    public static string ForShell(RootCommand root, string api)
    {
        var commands = root.Subcommands.Where(c => !c.Hidden && c.Name != "shell")
            .Select(c => (Usage(c), c.Description ?? ""))
            .Concat([("help", "This list; COMMAND --help says more about one"), ("exit", "Leave the shell (or Ctrl-D)")])
            .ToList();
        var width = commands.Max(c => c.Item1.Length);
        var text = new StringBuilder("Commands (without the 'mesh' prefix; add --json for JSON):\n");
        foreach (var (usage, description) in commands) text.Append("  ").Append(usage.PadRight(width + 2)).AppendLine(description);
        text.AppendLine($"This shell asks the API at {api}. For another, leave and start it with: mesh shell --api URLS (or set MESH_API).");
        return text.ToString();
    }

    /// <summary>"routes GATEWAY", "config check|push|show".</summary>
    private static string Usage(Command c) =>
        string.Join(" ", new[] { c.Name }
            .Concat(c.Subcommands.Count > 0 ? [string.Join("|", c.Subcommands.Select(s => s.Name))] : [])
            .Concat(c.Arguments.Select(a => a.Name)));
}
