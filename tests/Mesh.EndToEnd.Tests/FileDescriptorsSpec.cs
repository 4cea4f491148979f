using System.Net;
using System.Net.Sockets;
using Mesh.Node;
using Xunit;

namespace Mesh.EndToEnd.Tests;

/// <summary>The descriptor count behind a gateway's refusal of clients near its limit (readdir of /proc/self/fd).</summary>
public sealed class FileDescriptorsSpec
{
    [Fact]
    public void Counts_the_descriptors_a_process_opens_and_closes()
    {
        if (!FileDescriptors.CanCount) return;   // no /proc: the gateway does not count either
        var before = FileDescriptors.CountOpen();
        Assert.NotNull(before);

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var clients = Enumerable.Range(0, 10).Select(_ => new TcpClient()).ToList();
        foreach (var client in clients) client.Connect((IPEndPoint)listener.LocalEndpoint);
        var accepted = clients.Select(_ => listener.AcceptTcpClient()).ToList();

        // 21 sockets (listener, 10 clients, 10 accepted); other threads of the test host may open or close a few.
        var during = FileDescriptors.CountOpen();
        Assert.InRange(during!.Value - before.Value, 18, 24);

        foreach (var socket in clients.Concat(accepted)) socket.Dispose();
        listener.Stop();
        Assert.InRange(FileDescriptors.CountOpen()!.Value - before.Value, -3, 3);
    }
}
