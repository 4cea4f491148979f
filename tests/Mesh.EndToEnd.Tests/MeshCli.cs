using System.Diagnostics;

namespace Mesh.EndToEnd.Tests;

/// <summary>Runs the real `mesh` binary as an operator would: its exit code, and stdout and stderr apart (scripts parse stdout).</summary>
public static class MeshCli
{
    public sealed record Run(int ExitCode, string Out, string Err);

    /// <summary>Starts it (with the read token, and neither the machine's CLI config nor MESH_API); the caller reads and stops it.</summary>
    /// <param name="netns">run it inside this network namespace, as an operator on that host would (ip netns exec)</param>
    public static Process Start(string[] args, IDictionary<string, string>? env = null, string? netns = null)
    {
        string[] command = [.. netns is null ? [] : new[] { "ip", "netns", "exec", netns }, "dotnet", NodeProcess.CliDll, .. args];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in command.Skip(1)) start.ArgumentList.Add(a);
        start.Environment["MESH_CLI_CONFIG"] = "/nonexistent/cli.toml";   // the machine's own CLI config must not change the test
        start.Environment.Remove("MESH_API");
        start.Environment["MESH_API_TOKEN"] = TestMesh.ApiReadToken;   // reads need a token; a test that writes gives the admin one
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) start.Environment[k] = v;
        return Process.Start(start)!;
    }

    public static async Task<Run> RunAsync(string[] args, string? stdin = null, IDictionary<string, string>? env = null, string? netns = null)
    {
        using var p = Start(args, env, netns);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(timeout.Token);
        return new Run(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Runs it on a pseudo-terminal (util-linux `script`), as a person at a keyboard: waits for the prompt,
    /// types each of <paramref name="lines"/> after the next prompt (keys typed while a command runs would
    /// meet the terminal in line mode, as they would for a person), and returns everything it printed.
    /// </summary>
    public static async Task<string> OnTerminalAsync(string args, params string[] lines)
    {
        var start = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-qfec", $"dotnet {NodeProcess.CliDll} {args}", "/dev/null" }) start.ArgumentList.Add(a);
        start.Environment["MESH_CLI_CONFIG"] = "/nonexistent/cli.toml";
        start.Environment["MESH_API_TOKEN"] = TestMesh.ApiReadToken;
        start.Environment["TERM"] = "xterm";
        using var p = Process.Start(start)!;
        const string prompt = "mesh> ";
        var screen = new System.Text.StringBuilder();
        var prompts = 0;
        var prompted = new List<TaskCompletionSource>(lines.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        var reader = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await p.StandardOutput.ReadAsync(buffer)) > 0)
                lock (screen)
                {
                    screen.Append(buffer, 0, n);
                    var seen = System.Text.RegularExpressions.Regex.Count(screen.ToString(), "(^|\n)" + prompt);
                    for (; prompts < Math.Min(seen, prompted.Count); prompts++) prompted[prompts].TrySetResult();
                }
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            for (var i = 0; i < lines.Length; i++)
            {
                await prompted[i].Task.WaitAsync(timeout.Token);
                await p.StandardInput.WriteAsync(lines[i]);
                await p.StandardInput.FlushAsync();
            }
            await p.WaitForExitAsync(timeout.Token);
            await reader;
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            lock (screen) throw new TimeoutException($"the shell on a terminal did not finish within 60 s; it printed:\n{screen}");
        }
        lock (screen) return screen.ToString();
    }
}
