using CsCheck;
using Mesh.Config;

namespace Mesh.Config.Tests;

public sealed class HostPortSpec
{
    [Theory]
    [InlineData("127.0.0.1:80", "127.0.0.1", 80)]
    [InlineData("core1.example:4053", "core1.example", 4053)]
    [InlineData("[::1]:7443", "::1", 7443)]
    public void Parses_hosts_names_and_ipv6(string text, string host, int port) =>
        Assert.Equal(new HostPort(host, port), HostPort.Parse(text));

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("localhost", "is not HOST:PORT")]
    [InlineData("a:b:c", "is not HOST:PORT")]
    [InlineData("host:0", "from 1 to 65535")]
    [InlineData("host:-1", "from 1 to 65535")]
    [InlineData("bad_host!:80", "neither an IP address nor a host name")]
    [InlineData("[zz]:80", "not an IPv6 address")]
    public void Rejects_bad_text_saying_why(string text, string why)
    {
        Assert.False(HostPort.TryParse(text, out _, out var error));
        Assert.Contains(why, error);
    }

    [Fact]
    public void Printing_then_parsing_gives_the_same_endpoint() =>
        Gen.Select(Gen.Byte, Gen.Byte, Gen.Byte, Gen.Int[1, 65535])
            .Sample((a, b, c, port) =>
            {
                var hp = new HostPort($"10.{a}.{b}.{c}", port);
                return HostPort.Parse(hp.ToString()) == hp;
            });

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5000)]
    [InlineData("1m30s", 90000)]
    [InlineData("2h", 7200000)]
    public void Durations_parse(string text, int ms)
    {
        Assert.True(Durations.TryParse(text, out var t));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), t);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("5 s")]
    [InlineData("0s")]
    [InlineData("s")]
    [InlineData("-1s")]
    public void Bad_durations_are_refused(string text) => Assert.False(Durations.TryParse(text, out _));
}
