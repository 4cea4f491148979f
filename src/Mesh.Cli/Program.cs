using System.CommandLine;
using Mesh.Cli;

var root = new RootCommand("mesh: the Mesh admin shell")
{
    PkiCommands.Ca(),
    PkiCommands.Cert(),
    EchoCommand.Create(),
};
var result = root.Parse(args);
if (result.Errors.Count > 0 && result.Action is not System.CommandLine.Help.HelpAction)
{
    Console.Error.WriteLine($"mesh: {result.Errors[0].Message} (see mesh --help)");
    return 2;
}
return await result.InvokeAsync();
