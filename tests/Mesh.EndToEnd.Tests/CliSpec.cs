using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mesh.EndToEnd.Tests;

/// <summary>The real `mesh` binary where no mesh is needed: what it says alone, in the shell's help, and to an address that is not a Mesh API.</summary>
public sealed class CliSpec
{
    [Theory]
    [InlineData("config", new[] { "check <FILE>", "push <FILE>", "show" })]
    [InlineData("cluster", new[] { "show", "leave <NODE>", "down <NODE>" })]
    [InlineData("cert", new[] { "issue <NAME>", "show <FILE>" })]
    public async Task A_command_alone_lists_its_subcommands(string command, string[] subcommands)
    {
        var run = await MeshCli.RunAsync([command]);
        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.Err);
        foreach (var sub in subcommands) Assert.Contains($"  {sub}  ", run.Out);
    }

    [Fact]
    public async Task Help_in_the_shell_lists_what_can_be_typed_there_and_which_API_it_asks()
    {
        var run = await MeshCli.RunAsync(["shell", "--api", "127.0.0.1:1"], stdin: "help\n");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"\n  cluster show\|leave\|down +The cluster", run.Out);
        Assert.Matches(@"\n  routes GATEWAY +The route table", run.Out);
        Assert.Matches(@"\n  exit +Leave the shell", run.Out);
        Assert.DoesNotMatch(@"\n  shell ", run.Out);          // not a command of the shell
        Assert.DoesNotContain("--token", run.Out);            // nor the flags `mesh` itself takes
        Assert.Contains("This shell asks the API at http://127.0.0.1:1/ (from --api). For another, leave and start it with: mesh shell --api URLS", run.Out);
    }

    [Fact]
    public async Task Events_with_no_past_and_no_follow_print_nothing_and_a_limit_out_of_range_is_a_usage_error()
    {
        var none = await MeshCli.RunAsync(["events", "-n", "0", "--api", "127.0.0.1:1"]);   // nothing asked: no API needed
        Assert.Equal((0, "", ""), (none.ExitCode, none.Out, none.Err));
        var tooMany = await MeshCli.RunAsync(["events", "-n", "1001"]);
        Assert.Equal(2, tooMany.ExitCode);
        Assert.StartsWith("mesh: --limit must be from 0 to 1000", tooMany.Err);
    }

    [Fact]
    public async Task An_address_answered_by_another_HTTP_server_is_named_as_not_a_Mesh_API()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);   // a web server that knows no /v1/health: 404, no body
        server.Start();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;
        var answering = Task.Run(async () =>
        {
            using var client = await server.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[4096];
            int n;
            while (!request.ToString().Contains("\r\n\r\n") && (n = await stream.ReadAsync(buffer)) > 0) request.Append(Encoding.ASCII.GetString(buffer, 0, n));
            await stream.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
            return request.ToString();
        });

        var run = await MeshCli.RunAsync(["health", "--api", $"127.0.0.1:{port}"]);
        Assert.StartsWith("GET /v1/health ", await answering);
        Assert.Equal(3, run.ExitCode);
        Assert.Equal($"mesh: http://127.0.0.1:{port}/ answered 404 Not Found but is not a Mesh API (check --api / MESH_API; this address is from --api)",
            run.Err.Trim());
        Assert.Empty(run.Out);
    }
}
