using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net.Dns;
using Mesh.Gateway.Flows;

namespace Mesh.Gateway.Naming;

/// <summary>
/// A gateway's DNS server (--dns): UDP and TCP on one address, answering <see cref="MeshNames"/> from the route table in
/// force. Never recursive. A packet that does not parse is dropped by the library; a query with other than one
/// question is FORMERR, another opcode NOTIMP; nothing a client sends reaches past <see cref="Respond"/>.
/// </summary>
public sealed class MeshDnsServer : IDisposable
{
    private readonly DnsServer _server;
    private readonly IPEndPoint _endpoint;
    private readonly RouteView _routes;
    private long _dropped;

    /// <summary>Binds UDP and TCP on <paramref name="endpoint"/> (a taken port throws SocketException) and serves.</summary>
    public MeshDnsServer(IPEndPoint endpoint, RouteView routes)
    {
        (_endpoint, _routes) = (endpoint, routes);
        _server = new DnsServer(new UdpServerTransport(endpoint), new TcpServerTransport(endpoint));
        _server.QueryReceived += (_, e) =>
        {
            e.Response = e.Query is DnsMessage query ? Respond(query, e.RemoteEndpoint) : null;
            return Task.CompletedTask;
        };
        _server.ExceptionThrown += (_, _) =>
        {
            Interlocked.Increment(ref _dropped);   // a malformed packet or a client gone mid-answer: nothing to answer
            return Task.CompletedTask;
        };
        _server.Start();
    }

    /// <summary>Packets the library could not read or answer (malformed, truncated, a TCP client gone).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public DnsMessage Respond(DnsMessage query, IPEndPoint? client)
    {
        var response = query.CreateResponseInstance();
        response.IsRecursionAllowed = false;
        try
        {
            if (query.OperationCode != OperationCode.Query) { response.ReturnCode = ReturnCode.NotImplemented; return response; }
            if (query.Questions.Count != 1) { response.ReturnCode = ReturnCode.FormatError; return response; }
            var question = query.Questions[0];
            var answer = question.RecordClass is RecordClass.INet or RecordClass.Any
                ? MeshNames.For(_routes.Current, question.Name, question.RecordType, family => WildcardAnswer(family, client))
                : DnsAnswer.Error(ReturnCode.Refused);
            response.ReturnCode = answer.Code;
            response.IsAuthoritiveAnswer = answer.Code is ReturnCode.NoError or ReturnCode.NxDomain;
            response.AnswerRecords.AddRange(answer.Answers);
            response.AdditionalRecords.AddRange(answer.Additional);
            response.AuthorityRecords.AddRange(answer.Authority);
        }
        catch (Exception)
        {   // a name the library parsed but a label we cannot use: never let it reach the server loop
            response.AnswerRecords.Clear();
            response.ReturnCode = ReturnCode.ServerFailure;
        }
        return response;
    }

    /// <summary>
    /// The address to give for an entry bound to every address: the --dns address when it is one address of that family;
    /// else the address this host reaches the asking client from (loopback for a client on this host), which is the
    /// address its query arrived on wherever routing is symmetric; else loopback.
    /// </summary>
    private IPAddress WildcardAnswer(AddressFamily family, IPEndPoint? client)
    {
        var own = _endpoint.Address;
        if (own.AddressFamily == family && !own.Equals(IPAddress.Any) && !own.Equals(IPAddress.IPv6Any)) return own;
        var loopback = family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback;
        var peer = client?.Address is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : client?.Address;
        if (peer is null || peer.AddressFamily != family) return loopback;
        try
        {   // connect(2) on UDP sends nothing: it asks the routing table which local address reaches the client
            using var probe = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            probe.Connect(new IPEndPoint(peer, 9));
            return (probe.LocalEndPoint as IPEndPoint)?.Address ?? loopback;
        }
        catch (SocketException) { return loopback; }
    }

    public void Dispose() => _server.Stop();
}
