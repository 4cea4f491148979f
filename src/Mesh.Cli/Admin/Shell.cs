using System.CommandLine;
using System.Text;

namespace Mesh.Cli.Admin;

/// <summary>
/// `mesh shell` (or `mesh` with no command): type commands without the `mesh` prefix, as in Petabridge.Cmd's
/// pbm. On a terminal: a prompt, history (up/down), and tab completion of commands and of gateway names.
/// With stdin redirected: one command per line, no prompt (a script or a test can drive it).
/// </summary>
public static class Shell
{
    public static Command Create(RootCommand root)
    {
        var command = new Command("shell", "An interactive shell: commands without the 'mesh' prefix, history, tab completion; 'exit' leaves");
        command.SetAction((r, ct) => RunAsync(root, r, ct));
        return command;
    }

    public static async Task<int> RunAsync(RootCommand root, ParseResult invocation, CancellationToken ct)
    {
        var inherited = Inherited(invocation);
        var completer = new Completer(root, () => GatewayNamesAsync(invocation, ct));
        var interactive = !Console.IsInputRedirected;
        if (interactive) Console.WriteLine("mesh shell: type a command (help lists them), Tab completes, exit leaves");
        var history = new List<string>();
        var last = ExitCodes.Ok;
        while (!ct.IsCancellationRequested)
        {
            var line = interactive ? LineEditor.Read("mesh> ", history, completer) : await Console.In.ReadLineAsync(ct);
            if (line is null) break;   // end of input, or Ctrl-D
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line is "exit" or "quit") break;
            history.Add(line);
            var words = Words(line);
            if (words is ["help"]) { Console.Write(CommandHelp.ForShell(root, ApiText(invocation))); last = ExitCodes.Ok; continue; }
            if (words is ["help", .. var about]) words = [.. about, "--help"];
            if (words is ["shell", ..]) { Console.Error.WriteLine("mesh: already in the shell"); continue; }
            var result = root.Parse([.. words, .. inherited]);
            if (result.Errors.Count > 0 && result.Action is not System.CommandLine.Help.HelpAction)
            {
                Console.Error.WriteLine($"mesh: {result.Errors[0].Message} (type help)");
                last = ExitCodes.Usage;
                continue;
            }
            last = await result.InvokeAsync(cancellationToken: ct);
        }
        return interactive ? ExitCodes.Ok : last;
    }

    /// <summary>The shell's own --api, --token and --json apply to every command typed in it.</summary>
    private static string[] Inherited(ParseResult r) =>
    [
        .. r.GetValue(AdminOptions.Api) is { } api ? new[] { "--api", api } : [],
        .. r.GetValue(AdminOptions.Token) is { } token ? new[] { "--token", token } : [],
        .. r.GetValue(AdminOptions.Json) ? new[] { "--json" } : [],
    ];

    /// <summary>The API addresses the shell's commands use, and where they came from.</summary>
    private static string ApiText(ParseResult r)
    {
        try
        {
            var c = ApiConnection.Resolve(r.GetValue(AdminOptions.Api), r.GetValue(AdminOptions.Token), r.GetValue(AdminOptions.Ca));
            return $"{string.Join(", ", c.Apis)} (from {c.Source})";
        }
        catch (AdminError e) { return $"? ({e.Message})"; }
    }

    private static async Task<IReadOnlyList<string>> GatewayNamesAsync(ParseResult r, CancellationToken ct)
    {
        try
        {
            using var api = new ApiClient(ApiConnection.Resolve(r.GetValue(AdminOptions.Api), r.GetValue(AdminOptions.Token), r.GetValue(AdminOptions.Ca)));
            return (await api.GetAsync("/v1/gateways", ct)).Items().Select(g => g.Str("name")).ToArray();
        }
        catch (AdminError) { return []; }   // no completion of names while the API is away; the command will say why
    }

    /// <summary>Splits a typed line into words; double or single quotes keep spaces.</summary>
    public static string[] Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        char? quote = null;
        var any = false;
        foreach (var c in line)
        {
            if (quote is not null) { if (c == quote) quote = null; else word.Append(c); }
            else if (c is '"' or '\'') { quote = c; any = true; }
            else if (char.IsWhiteSpace(c)) { if (word.Length > 0 || any) words.Add(word.ToString()); word.Clear(); any = false; }
            else word.Append(c);
        }
        if (word.Length > 0 || any) words.Add(word.ToString());
        return [.. words];
    }
}
