using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Mesh.Config;

namespace Mesh.Cli;

/// <summary>`mesh echo`: a tiny TCP echo service, to try a mesh end to end before wiring real services.</summary>
public static class EchoCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "Address to listen on", Required = true, HelpName = "HOST:PORT" };
        var echo = new Command("echo", "Run a TCP echo service (sends every byte back) to test entries and links") { listen };
        echo.SetAction(async (r, ct) =>
        {
            if (!HostPort.TryParse(r.GetValue(listen), out var hp, out var error) || !IPAddress.TryParse(hp!.Host, out var ip))
            {
                Console.Error.WriteLine($"mesh: --listen: {(error.Length > 0 ? error : "give an IP address")}");
                return 2;
            }
            var listener = new TcpListener(ip, hp.Port);
            try { listener.Start(1024); }
            catch (SocketException e)
            {
                Console.Error.WriteLine($"mesh: cannot listen on {hp}: {e.SocketErrorCode}");
                return 1;
            }
            Console.WriteLine($"echo service listening on {hp}");
            try
            {
                while (!ct.IsCancellationRequested) _ = EchoAsync(await listener.AcceptSocketAsync(ct), ct);
            }
            catch (OperationCanceledException) { }
            return 0;
        });
        return echo;
    }

    private static async Task EchoAsync(Socket socket, CancellationToken ct)
    {
        using (socket)
        {
            try
            {
                await using var stream = new NetworkStream(socket);
                await stream.CopyToAsync(stream, 64 * 1024, ct);
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
        }
    }
}
