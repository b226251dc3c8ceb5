using System.Net;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.Server;
using Switchboard.Dns.Tests.Support;

namespace Switchboard.Dns.Tests.Forwarding;

/// <summary>The real server with forwarding on, asked by the real dig over UDP and TCP.</summary>
public sealed class ForwardingServerTests : IAsyncLifetime
{
    private readonly TestCluster _cluster = new();
    private readonly FakeUpstream _upstream = new((name, _) => name == "www.example.org"
        ? FakeReply.Address(120, "192.0.2.80")
        : FakeReply.NxDomain((300, 30)));

    private DnsServer? _server;

    public Task InitializeAsync()
    {
        _server = DnsServer.Start(
            _cluster.Index,
            new DnsServerOptions
            {
                EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                UdpSockets = 1,
                Forwarding = new ForwarderOptions { Upstreams = [_upstream.EndPoint] },
            },
            TimeProvider.System);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Dig_over_udp_and_tcp_gets_the_upstream_answer_and_the_second_comes_from_the_cache()
    {
        string udp = await Dig.RunAsync(_server!.EndPoint, "www.example.org", "A", "+short");
        string tcp = await Dig.RunAsync(_server.EndPoint, "www.example.org", "A", "+short", "+tcp");

        Assert.Equal(["192.0.2.80"], Dig.Lines(udp));
        Assert.Equal(["192.0.2.80"], Dig.Lines(tcp));
        Assert.Equal(["www.example.org. A udp"], _upstream.Asked);
    }

    [Fact]
    public async Task An_outside_nxdomain_is_relayed_with_the_upstreams_soa()
    {
        string output = await Dig.RunAsync(_server!.EndPoint, "nothing.example.org", "A");

        Assert.Equal("NXDOMAIN", Dig.Status(output));
        Assert.Contains(Dig.Records(output), r => r.Length > 3 && r[3] == "SOA");
        Assert.DoesNotContain("aa", Dig.Flags(output));
    }

    [Fact]
    public async Task Cluster_names_are_answered_from_the_index_and_never_forwarded()
    {
        string known = await Dig.RunAsync(_server!.EndPoint, "web.default.svc.cluster.local", "A", "+short");
        string unknown = await Dig.RunAsync(_server.EndPoint, "nope.default.svc.cluster.local", "A");

        Assert.Equal(["10.96.0.20"], Dig.Lines(known));
        Assert.Equal("NXDOMAIN", Dig.Status(unknown));
        Assert.Empty(_upstream.Asked);
    }

    [Fact]
    public async Task Unknown_reverse_names_are_forwarded_and_known_ones_are_not()
    {
        await Dig.RunAsync(_server!.EndPoint, "-x", "10.96.0.20", "+short");
        await Dig.RunAsync(_server.EndPoint, "-x", "10.244.250.1", "+short");

        Assert.Equal(["1.250.244.10.in-addr.arpa. PTR udp"], _upstream.Asked);
    }

    [Fact]
    public async Task Queries_the_server_itself_refuses_are_not_forwarded()
    {
        string chaos = await Dig.RunAsync(_server!.EndPoint, "-c", "CH", "version.bind", "TXT");

        Assert.Equal("REFUSED", Dig.Status(chaos));
        Assert.Empty(_upstream.Asked);
    }
}
