using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Zones;

/// <summary>One row per rule of the Kubernetes DNS specification 1.1.0 and CoreDNS's kubernetes plugin.</summary>
public sealed class ClusterZoneRulesTests
{
    private const string Zone = "cluster.local";

    private static readonly TestCluster Cluster = new();

    public static TheoryData<string, string, string, string, string[]> Rules => new()
    {
        { "schema version", $"dns-version.{Zone}", "TXT", "NoError", ["TXT \"1.1.0\""] },
        { "ClusterIP A", $"web.default.svc.{Zone}", "A", "NoError", ["A 10.96.0.20"] },
        { "IPv4-only ClusterIP has no AAAA", $"web.default.svc.{Zone}", "AAAA", "NoError", [] },
        { "other types on a service are NODATA", $"web.default.svc.{Zone}", "TXT", "NoError", [] },
        { "dual-stack A", $"dual.default.svc.{Zone}", "A", "NoError", ["A 10.96.0.21"] },
        { "dual-stack AAAA", $"dual.default.svc.{Zone}", "AAAA", "NoError", ["AAAA fd00::21"] },
        { "IPv6-only has no A", $"v6only.default.svc.{Zone}", "A", "NoError", [] },
        { "IPv6-only AAAA", $"v6only.default.svc.{Zone}", "AAAA", "NoError", ["AAAA fd00::22"] },
        { "ClusterIP without endpoints still resolves", $"empty.default.svc.{Zone}", "A", "NoError", ["A 10.96.0.23"] },
        { "SRV for a named TCP port", $"_http._tcp.web.default.svc.{Zone}", "SRV", "NoError", [$"SRV 0 100 80 web.default.svc.{Zone}."] },
        { "SRV for a named UDP port", $"_dns._udp.web.default.svc.{Zone}", "SRV", "NoError", [$"SRV 0 100 53 web.default.svc.{Zone}."] },
        { "SRV with the wrong protocol", $"_http._udp.web.default.svc.{Zone}", "SRV", "NXDomain", [] },
        { "SRV for an unknown port", $"_nope._tcp.web.default.svc.{Zone}", "SRV", "NXDomain", [] },
        { "ClusterIP PTR", "20.0.96.10.in-addr.arpa", "PTR", "NoError", [$"PTR web.default.svc.{Zone}."] },
        { "ClusterIP IPv6 PTR", "1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", "PTR", "NoError", [$"PTR dual.default.svc.{Zone}."] },
        { "headless A per ready endpoint", $"db.default.svc.{Zone}", "A", "NoError", ["A 10.244.1.5", "A 10.244.1.6"] },
        { "headless endpoint by hostname", $"db-0.db.default.svc.{Zone}", "A", "NoError", ["A 10.244.1.5"] },
        { "headless endpoint by dashed IP", $"10-244-1-6.db.default.svc.{Zone}", "A", "NoError", ["A 10.244.1.6"] },
        { "not-ready endpoint is invisible", $"10-244-1-7.db.default.svc.{Zone}", "A", "NXDomain", [] },
        { "headless SRV per ready endpoint", $"_pg._tcp.db.default.svc.{Zone}", "SRV", "NoError", [$"SRV 0 50 5432 db-0.db.default.svc.{Zone}.", $"SRV 0 50 5432 10-244-1-6.db.default.svc.{Zone}."] },
        { "headless PTR", "6.1.244.10.in-addr.arpa", "PTR", "NoError", [$"PTR 10-244-1-6.db.default.svc.{Zone}."] },
        { "headless PTR uses the hostname", "5.1.244.10.in-addr.arpa", "PTR", "NoError", [$"PTR db-0.db.default.svc.{Zone}."] },
        { "headless with none ready", $"none-ready.default.svc.{Zone}", "A", "NXDomain", [] },
        { "headless with none ready has no SRV", $"_pg._tcp.none-ready.default.svc.{Zone}", "SRV", "NXDomain", [] },
        { "publishNotReadyAddresses shows not-ready", $"publish.default.svc.{Zone}", "A", "NoError", ["A 10.244.1.9"] },
        { "ExternalName is a CNAME", $"ext.default.svc.{Zone}", "A", "NoError", ["CNAME www.example.com."] },
        { "ExternalName answers CNAME queries", $"ext.default.svc.{Zone}", "CNAME", "NoError", ["CNAME www.example.com."] },
        { "nothing below an ExternalName", $"x.ext.default.svc.{Zone}", "A", "NXDomain", [] },
        { "pod A from its name", $"10-244-1-5.default.pod.{Zone}", "A", "NoError", ["A 10.244.1.5"] },
        { "insecure pod A needs no pod", $"10-9-9-9.default.pod.{Zone}", "A", "NoError", ["A 10.9.9.9"] },
        { "insecure IPv6 pod", $"fd00--5.default.pod.{Zone}", "AAAA", "NoError", ["AAAA fd00::5"] },
        { "IPv4 pod name has no AAAA", $"10-9-9-9.default.pod.{Zone}", "AAAA", "NoError", [] },
        { "pod label that is no IP", $"not-an-ip.default.pod.{Zone}", "A", "NXDomain", [] },
        { "pod octet over 255", $"10-9-9-256.default.pod.{Zone}", "A", "NXDomain", [] },
        { "pod in an unknown namespace", $"1-2-3-4.nowhere.pod.{Zone}", "A", "NXDomain", [] },
        { "apex SOA", Zone, "SOA", "NoError", [$"SOA ns.dns.{Zone}. hostmaster.{Zone}. {TestCluster.Now.ToUnixTimeSeconds()} 7200 1800 86400 30"] },
        { "apex NS", Zone, "NS", "NoError", [$"NS ns.dns.{Zone}."] },
        { "apex A is NODATA", Zone, "A", "NoError", [] },
        { "svc is an empty non-terminal", $"svc.{Zone}", "A", "NoError", [] },
        { "pod is an empty non-terminal", $"pod.{Zone}", "A", "NoError", [] },
        { "namespace is an empty non-terminal", $"default.svc.{Zone}", "A", "NoError", [] },
        { "namespace without services exists", $"other.svc.{Zone}", "A", "NoError", [] },
        { "pod namespace exists", $"default.pod.{Zone}", "A", "NoError", [] },
        { "unknown namespace", $"nowhere.svc.{Zone}", "A", "NXDomain", [] },
        { "unknown service", $"nope.default.svc.{Zone}", "A", "NXDomain", [] },
        { "unknown service AAAA", $"nope.default.svc.{Zone}", "AAAA", "NXDomain", [] },
        { "second label neither svc nor pod", $"foo.{Zone}", "A", "NXDomain", [] },
        { "too many labels", $"x.db-0.db.default.svc.{Zone}", "A", "NXDomain", [] },
        { "unknown qtype on a service is NODATA (RFC 3597)", $"web.default.svc.{Zone}", "65280", "NoError", [] },
        { "ANY gets one RRset (RFC 8482)", $"web.default.svc.{Zone}", "ANY", "NoError", ["A 10.96.0.20"] },
        { "outside the zone is refused", "example.com", "A", "Refused", [] },
        { "unknown reverse names are left to a forwarder", "7.1.244.10.in-addr.arpa", "PTR", "Refused", [] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Answers_by_the_rules(string rule, string name, string type, string code, string[] answers)
    {
        TestResponse response = Cluster.Ask(name, Enum.Parse<DnsRecordType>(type));

        Assert.True(Enum.Parse<DnsResponseCode>(code) == response.Code, $"{rule}: expected {code}, got {response.Code}");
        Assert.Equal(answers.Order(), response.Answers.Select(a => $"{a.Type} {a.Data}").Order());
        Assert.All(response.Answers, a => Assert.Equal(name + ".", a.Owner));
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Authoritative_answers_set_AA_and_negative_ones_carry_the_SOA(string rule, string name, string type, string rcode, string[] answers)
    {
        TestResponse response = Cluster.Ask(name, Enum.Parse<DnsRecordType>(type));
        DnsResponseCode code = Enum.Parse<DnsResponseCode>(rcode);

        Assert.True(code != DnsResponseCode.Refused == response.Authoritative, $"{rule}: AA");
        if (code == DnsResponseCode.NXDomain || (code == DnsResponseCode.NoError && answers.Length == 0))
        {
            TestRecord soa = Assert.Single(response.Authority);
            Assert.Equal(DnsRecordType.SOA, soa.Type);
            Assert.Equal(Zone + ".", soa.Owner);
            Assert.Equal(30u, soa.Ttl);
            Assert.EndsWith(" 30", soa.Data, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(response.Authority);
        }
    }

    [Fact]
    public void Records_carry_the_configured_ttl_and_the_schema_version_its_own()
    {
        Assert.All(Cluster.Ask($"db.default.svc.{Zone}", DnsRecordType.A).Answers, a => Assert.Equal(30u, a.Ttl));
        Assert.Equal(28800u, Cluster.Ask($"dns-version.{Zone}", DnsRecordType.TXT).Answers.Single().Ttl);
        Assert.Equal(30u, Cluster.Ask($"10-9-9-9.default.pod.{Zone}", DnsRecordType.A).Answers.Single().Ttl);
    }

    [Fact]
    public void Srv_answers_carry_the_targets_addresses_as_additional_records()
    {
        TestResponse response = Cluster.Ask($"_pg._tcp.db.default.svc.{Zone}", DnsRecordType.SRV);

        Assert.Equal(
            [$"db-0.db.default.svc.{Zone}. A 10.244.1.5", $"10-244-1-6.db.default.svc.{Zone}. A 10.244.1.6"],
            response.Additional.Select(r => $"{r.Owner} {r.Type} {r.Data}").Order().Reverse());
    }

    [Theory]
    [InlineData("WeB.DeFault.SVC.Cluster.LOCAL")]
    [InlineData("NoPe.DeFault.SVC.Cluster.LOCAL")]
    [InlineData("10-9-9-9.DEFAULT.pod.cluster.local")]
    [InlineData("_HTTP._tcp.web.default.svc.cluster.local")]
    public void Answers_ignore_case_and_echo_the_query_case(string name)
    {
        DnsRecordType type = name.StartsWith('_') ? DnsRecordType.SRV : DnsRecordType.A;
        TestResponse response = Cluster.Ask(name, type);

        Assert.Equal(name + ".", response.QuestionName);
        Assert.All(response.Answers, a => Assert.Equal(name + ".", a.Owner));
        Assert.All(response.Authority, a => Assert.Equal(name[^Zone.Length..] + ".", a.Owner));
        Assert.NotEqual(0, response.Answers.Count + response.Authority.Count);
    }
}
