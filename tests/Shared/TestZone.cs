using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Mesh.Tests.Shared;

/// <summary>
/// A DNS server of the test's own on a loopback port (UDP and TCP), authoritative for the names it is given: SRV
/// records that a test changes while it runs, as an operator edits a zone. TTL 0: every lookup sees the change.
/// </summary>
public sealed class TestZone : IDisposable
{
    private readonly DnsServer _server;
    private volatile IReadOnlyDictionary<string, (string Target, int Port)> _srv = new Dictionary<string, (string, int)>();
    private volatile IReadOnlyDictionary<string, IPAddress> _hosts = new Dictionary<string, IPAddress>();
    private int _queries;

    public TestZone()
    {
        Port = FreePorts.Next();
        var at = new IPEndPoint(IPAddress.Loopback, Port);
        _server = new DnsServer(new UdpServerTransport(at), new TcpServerTransport(at));
        _server.QueryReceived += (_, e) =>
        {
            Interlocked.Increment(ref _queries);
            if (e.Query is DnsMessage { Questions.Count: 1 } query) e.Response = Answer(query);
            return Task.CompletedTask;
        };
        _server.Start();
    }

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";
    /// <summary>Queries answered so far (a sign that a gateway asked again).</summary>
    public int Queries => Volatile.Read(ref _queries);

    /// <summary>Makes <paramref name="name"/> an SRV record for <paramref name="target"/>:<paramref name="port"/>, the target's A record 127.0.0.1.</summary>
    public void Srv(string name, string target, int port)
    {
        _hosts = new Dictionary<string, IPAddress>(_hosts) { [target] = IPAddress.Loopback };
        _srv = new Dictionary<string, (string, int)>(_srv) { [name] = (target, port) };
    }

    private DnsMessage Answer(DnsMessage query)
    {
        var response = query.CreateResponseInstance();
        var q = query.Questions[0];
        var name = q.Name.ToString().TrimEnd('.');
        response.IsAuthoritiveAnswer = true;
        if (q.RecordType == RecordType.Srv && _srv.TryGetValue(name, out var srv))
        {
            var target = DomainName.Parse(srv.Target);
            response.AnswerRecords.Add(new SrvRecord(q.Name, 0, 0, 0, (ushort)srv.Port, target));
            response.AdditionalRecords.Add(new ARecord(target, 0, _hosts[srv.Target]));
        }
        else if (q.RecordType == RecordType.A && _hosts.TryGetValue(name, out var ip)) response.AnswerRecords.Add(new ARecord(q.Name, 0, ip));
        else if (!_srv.ContainsKey(name) && !_hosts.ContainsKey(name)) response.ReturnCode = ReturnCode.NxDomain;
        return response;
    }

    /// <summary>Stops answering (a resolver that is down); idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0) _server.Stop();
    }

    private int _stopped;
}
