using System.CommandLine;
using Mesh.Cli;
using Mesh.Cli.Admin;

var root = new RootCommand("mesh: the Mesh admin shell")
{
    PkiCommands.Ca(),
    PkiCommands.Cert(),
    EchoCommand.Create(),
    AdminOptions.Api,
    AdminOptions.Token,
    AdminOptions.Ca,
    AdminOptions.Json,
};
foreach (var command in ViewCommands.All().Concat(ChangeCommands.All())) root.Add(command);
root.Add(Shell.Create(root));
root.SetAction((r, ct) => Shell.RunAsync(root, r, ct));   // `mesh` alone opens the shell
var result = root.Parse(args);
if (result.Errors.Count > 0 && result.Action is not System.CommandLine.Help.HelpAction)
{
    Console.Error.WriteLine($"mesh: {result.Errors[0].Message} (see mesh --help)");
    return 2;
}
return await result.InvokeAsync();
