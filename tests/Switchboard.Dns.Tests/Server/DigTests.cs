using Switchboard.Dns.Tests.Support;

namespace Switchboard.Dns.Tests.Server;

/// <summary>The server as a user meets it: the real dig over UDP and TCP on loopback.</summary>
public sealed class DigTests(DnsServerFixture server) : IClassFixture<DnsServerFixture>
{
    private const string Big = "big.default.svc.cluster.local";

    [Theory]
    [InlineData("")]
    [InlineData("+tcp")]
    public async Task Resolves_a_cluster_ip_service(string transport)
    {
        string output = await DigAsync(transport, "web.default.svc.cluster.local", "A", "+short");

        Assert.Equal(["10.96.0.20"], Dig.Lines(output));
    }

    [Theory]
    [InlineData("")]
    [InlineData("+tcp")]
    public async Task Resolves_srv_ptr_aaaa_and_pods(string transport)
    {
        Assert.Equal(["0 100 80 web.default.svc.cluster.local."], Dig.Lines(await DigAsync(transport, "_http._tcp.web.default.svc.cluster.local", "SRV", "+short")));
        Assert.Equal(["web.default.svc.cluster.local."], Dig.Lines(await DigAsync(transport, "-x", "10.96.0.20", "+short")));
        Assert.Equal(["fd00::21"], Dig.Lines(await DigAsync(transport, "dual.default.svc.cluster.local", "AAAA", "+short")));
        Assert.Equal(["10.1.2.3"], Dig.Lines(await DigAsync(transport, "10-1-2-3.default.pod.cluster.local", "A", "+short")));
        Assert.Equal(["\"1.1.0\""], Dig.Lines(await DigAsync(transport, "dns-version.cluster.local", "TXT", "+short")));
    }

    [Fact]
    public async Task Nxdomain_is_authoritative_with_the_soa()
    {
        string output = await DigAsync("", "nope.default.svc.cluster.local", "A");

        Assert.Equal("NXDOMAIN", Dig.Status(output));
        Assert.Contains("aa", Dig.Flags(output));
        string[] soa = Assert.Single(Dig.Records(output));
        Assert.Equal(["cluster.local.", "30", "IN", "SOA", "ns.dns.cluster.local.", "hostmaster.cluster.local."], soa[..6]);
    }

    [Fact]
    public async Task Echoes_the_query_case()
    {
        string output = await DigAsync("", "WeB.DeFault.svc.cluster.LOCAL", "A", "+noall", "+answer");

        Assert.StartsWith("WeB.DeFault.svc.cluster.LOCAL.", output.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_large_headless_answer_is_truncated_over_plain_udp()
    {
        string output = await DigAsync("", Big, "A", "+noedns", "+ignore");

        Assert.Contains("tc", Dig.Flags(output));
        int answers = Dig.Records(output).Count(r => r[0] == Big + "." && r[3] == "A");
        Assert.InRange(answers, 1, TestCluster.BigEndpoints - 1);
        Assert.Contains("MSG SIZE  rcvd: ", output, StringComparison.Ordinal);
        int size = int.Parse(output[(output.IndexOf("MSG SIZE  rcvd: ", StringComparison.Ordinal) + 16)..].Split('\n')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(size, 1, 512);
    }

    [Fact]
    public async Task A_large_headless_answer_is_whole_over_tcp()
    {
        string[] lines = Dig.Lines(await DigAsync("+tcp", Big, "A", "+short"));

        Assert.Equal(TestCluster.BigEndpoints, lines.Length);
        Assert.Equal(Enumerable.Range(1, TestCluster.BigEndpoints).Select(i => $"10.244.3.{i}").Order(), lines.Order());
    }

    [Fact]
    public async Task Dig_retries_a_truncated_answer_over_tcp_by_itself()
    {
        string output = await DigAsync("", $"_http._tcp.{Big}", "SRV", "+noedns");

        Assert.Contains("Truncated, retrying in TCP mode", output, StringComparison.Ordinal);
        Assert.Equal(TestCluster.BigEndpoints, Dig.Records(output).Count(r => r[3] == "SRV"));
    }

    [Fact]
    public async Task Unknown_edns_version_gets_badvers()
    {
        string output = await DigAsync("", "web.default.svc.cluster.local", "A", "+edns=1", "+noednsneg");

        Assert.Equal("BADVERS", Dig.Status(output));
        Assert.Contains("; EDNS: version: 0", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edns_is_echoed_and_plain_queries_get_no_opt()
    {
        Assert.Contains("; EDNS: version: 0, flags:; udp: 1232", await DigAsync("", "web.default.svc.cluster.local", "A"), StringComparison.Ordinal);
        Assert.DoesNotContain("OPT PSEUDOSECTION", await DigAsync("", "web.default.svc.cluster.local", "A", "+noedns"), StringComparison.Ordinal);
    }

    private Task<string> DigAsync(string transport, params string[] arguments) =>
        Dig.RunAsync(server.EndPoint, transport.Length == 0 ? arguments : [transport, .. arguments]);
}
