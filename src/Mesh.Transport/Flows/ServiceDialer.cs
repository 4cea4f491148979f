using System.Net;
using System.Net.Sockets;

namespace Mesh.Transport.Flows;

/// <summary>Opens the TCP connection from the owning gateway to its service.</summary>
public static class ServiceDialer
{
    /// <summary>Returns the connected socket, or null and the reason in words (e.g. "connection refused").</summary>
    public static async Task<(Socket? Socket, string? Error)> DialAsync(EndPoint target, TimeSpan timeout, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(target, deadline.Token);
            socket.NoDelay = true;
            return (socket, null);
        }
        catch (Exception e)
        {
            socket.Dispose();
            return (null, e switch
            {
                OperationCanceledException when !ct.IsCancellationRequested => $"no answer from {target} within {timeout.TotalSeconds:0.#}s",
                SocketException s => $"cannot connect to {target}: {Words(s.SocketErrorCode)}",
                OperationCanceledException => "canceled",
                _ => $"cannot connect to {target}: {e.Message}",
            });
        }
    }

    private static string Words(SocketError e) => e switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
        SocketError.HostNotFound => "host not found",
        SocketError.TimedOut => "timed out",
        _ => e.ToString(),
    };
}
