using System.Text;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Dns.Server;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.SkyDns;

/// <summary>SkyDNS / CoreDNS-etcd answer rules, table by table, through the real query handler.</summary>
public sealed class SkyDnsZoneTests
{
    private static readonly (string Key, string Value)[] Records =
    [
        ("/skydns/local/skydns/web/a", """{"host":"10.0.0.1","ttl":60}"""),
        ("/skydns/local/skydns/web/b", """{"host":"10.0.0.2"}"""),
        ("/skydns/local/skydns/v6/a", """{"host":"fd00::7"}"""),
        ("/skydns/local/skydns/alias", """{"host":"web.skydns.local"}"""),
        ("/skydns/local/skydns/outside", """{"host":"www.example.com."}"""),
        ("/skydns/local/skydns/svc/_tcp/_http/x1", """{"host":"10.0.0.5","port":8080,"weight":1}"""),
        ("/skydns/local/skydns/svc/_tcp/_http/x2", """{"host":"db.example.com","port":8081,"weight":3}"""),
        ("/skydns/local/skydns/svc/_tcp/_http/x3", """{"host":"10.0.0.6","port":9090,"priority":20,"targetstrip":3}"""),
        ("/skydns/local/skydns/motd", """{"text":"hello world"}"""),
        ("/skydns/local/skydns/g/a", """{"host":"10.0.1.1","group":"g1"}"""),
        ("/skydns/local/skydns/g/b/c", """{"host":"10.0.1.2","group":"g2"}"""),
        ("/skydns/local/skydns/g/d/e", """{"host":"10.0.1.3"}"""),
        ("/skydns/local/skydns/broken", "not json"),
    ];

    public static TheoryData<string, string, string, string[]> Rules => new()
    {
        { "an address host is an A record", "a.web.skydns.local", "A", ["10.0.0.1"] },
        { "a name has every leaf below it", "web.skydns.local", "A", ["10.0.0.1", "10.0.0.2"] },
        { "an IPv6 host is AAAA", "v6.skydns.local", "AAAA", ["fd00::7"] },
        { "an A query of an IPv6-only name is NODATA", "v6.skydns.local", "A", [] },
        { "a name host is a CNAME followed by the target's records", "alias.skydns.local", "A", ["web.skydns.local.", "10.0.0.1", "10.0.0.2"] },
        { "a CNAME outside the zones stands alone", "outside.skydns.local", "A", ["www.example.com."] },
        { "TXT from text", "motd.skydns.local", "TXT", ["\"hello world\""] },
        { "SRV with weights shared per priority and target from key or host", "_http._tcp.svc.skydns.local", "SRV",
            ["10 25 8080 x1._http._tcp.svc.skydns.local.", "10 75 8081 db.example.com.", "20 100 9090 svc.skydns.local."] },
        { "the group of the shortest key wins, leaves without a group stay", "g.skydns.local", "A", ["10.0.1.1", "10.0.1.3"] },
        { "a * label matches any one label", "*.web.skydns.local", "A", ["10.0.0.1", "10.0.0.2"] },
        { "a * label in the middle matches across names", "a.*.skydns.local", "A", ["10.0.1.1", "10.0.0.1"] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Rule(string because, string name, string type, string[] expected)
    {
        TestResponse response = Ask(Zone(), name, Enum.Parse<DnsRecordType>(type));

        Assert.True(response.Authoritative, because);
        Assert.Equal(expected, response.AnswerData);
        Assert.Equal(DnsResponseCode.NoError, response.Code);
    }

    [Fact]
    public void A_wildcard_that_matches_nothing_is_nxdomain()
    {
        TestResponse response = Ask(Zone(), "*.nothing.skydns.local", DnsRecordType.A);

        Assert.Equal(DnsResponseCode.NXDomain, response.Code);
    }

    [Fact]
    public void Ttl_comes_from_the_value_else_the_default()
    {
        TestResponse response = Ask(Zone(), "web.skydns.local", DnsRecordType.A);

        Assert.Equal([60u, 300u], response.Answers.Select(a => a.Ttl));
    }

    [Fact]
    public void An_address_target_of_an_srv_record_comes_as_glue()
    {
        TestResponse response = Ask(Zone(), "_http._tcp.svc.skydns.local", DnsRecordType.SRV);

        Assert.Contains(response.Additional, r => r.Owner == "x1._http._tcp.svc.skydns.local." && r.Data == "10.0.0.5");
    }

    [Fact]
    public void A_missing_name_is_nxdomain_with_the_skydns_soa()
    {
        TestResponse response = Ask(Zone(), "nothing.skydns.local", DnsRecordType.A);

        Assert.Equal(DnsResponseCode.NXDomain, response.Code);
        TestRecord soa = Assert.Single(response.Authority);
        Assert.Equal("skydns.local.", soa.Owner);
        Assert.StartsWith("ns.dns.skydns.local. hostmaster.skydns.local.", soa.Data, StringComparison.Ordinal);
        Assert.Equal(SkyDnsZone.NegativeTtl, soa.Ttl);
    }

    [Fact]
    public void A_name_with_records_of_another_type_is_nodata_and_an_undecodable_one_is_nxdomain()
    {
        SkyDnsZone zone = Zone();

        TestResponse nodata = Ask(zone, "motd.skydns.local", DnsRecordType.A);
        TestResponse broken = Ask(zone, "broken.skydns.local", DnsRecordType.A);

        Assert.Equal(DnsResponseCode.NoError, nodata.Code);
        Assert.Single(nodata.Authority);
        Assert.Equal(DnsResponseCode.NXDomain, broken.Code);
    }

    [Fact]
    public void The_apex_has_soa_and_ns()
    {
        SkyDnsZone zone = Zone();

        Assert.StartsWith("ns.dns.skydns.local.", Assert.Single(Ask(zone, "skydns.local", DnsRecordType.SOA).AnswerData), StringComparison.Ordinal);
        Assert.Equal(["ns.dns.skydns.local."], Ask(zone, "skydns.local", DnsRecordType.NS).AnswerData);
    }

    [Fact]
    public void Matching_ignores_case_and_echoes_the_query()
    {
        TestResponse response = Ask(Zone(), "A.Web.SkyDNS.local", DnsRecordType.A);

        Assert.Equal("A.Web.SkyDNS.local.", response.Answers[0].Owner);
        Assert.Equal(["10.0.0.1"], response.AnswerData);
    }

    [Fact]
    public void Before_the_first_load_the_zone_answers_servfail()
    {
        var zone = new SkyDnsZone(new SkyDnsOptions(), new FakeTimeProvider(TestCluster.Now));

        Assert.Equal(DnsResponseCode.ServFail, Ask(zone, "web.skydns.local", DnsRecordType.A).Code);
    }

    [Fact]
    public void Changes_apply_one_key_at_a_time()
    {
        SkyDnsZone zone = Zone();

        zone.Set("/skydns/local/skydns/web/c", Encoding.UTF8.GetBytes("""{"host":"10.0.0.3"}"""));
        zone.Remove("/skydns/local/skydns/web/a");

        Assert.Equal(["10.0.0.2", "10.0.0.3"], Ask(zone, "web.skydns.local", DnsRecordType.A).AnswerData);
    }

    [Fact]
    public void The_cluster_zone_comes_first_and_other_names_are_not_the_skydns_zones()
    {
        SkyDnsZone zone = Zone();

        Assert.Equal(["10.96.0.20"], Ask(zone, "web.default.svc.cluster.local", DnsRecordType.A).AnswerData);
        Assert.Equal(DnsResponseCode.Refused, Ask(zone, "www.example.com", DnsRecordType.A).Code);
    }

    internal static SkyDnsZone Zone()
    {
        var zone = new SkyDnsZone(new SkyDnsOptions(), new FakeTimeProvider(TestCluster.Now));
        zone.ReplaceAll(Records.Select(r => (r.Key, Encoding.UTF8.GetBytes(r.Value))));
        return zone;
    }

    internal static TestResponse Ask(SkyDnsZone zone, string name, DnsRecordType type)
    {
        var cluster = new TestCluster();
        var handler = new DnsQueryHandler(cluster.Index, 1232, forwards: false, zone);
        byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];
        int length = handler.Handle(TestQuery.Create(name, type), response, overTcp: true);
        return TestResponse.Parse(response.AsSpan(0, length));
    }
}
