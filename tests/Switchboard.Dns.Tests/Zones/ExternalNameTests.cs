using Microsoft.Extensions.Time.Testing;
using Switchboard.Dns.Server;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;
using Switchboard.Dns.Zones;
using static Switchboard.Dns.Tests.Support.TestObjects;

namespace Switchboard.Dns.Tests.Zones;

/// <summary>An ExternalName naming a service of the cluster carries that service's addresses, and follows them.</summary>
public sealed class ExternalNameTests
{
    private const string Alias = "alias.default.svc.cluster.local";

    private readonly ClusterDnsIndex _index = new(new ClusterZoneOptions(), new FakeTimeProvider(TestCluster.Now));

    public ExternalNameTests()
    {
        _index.ReplaceAll(
            [Namespace("default")],
            [ClusterIp("default", "web", ["10.96.0.20"]), ExternalName("default", "alias", "web.default.svc.cluster.local")],
            [],
            []);
        _index.MarkSynced();
    }

    [Fact]
    public void An_a_query_gets_the_cname_then_the_targets_address()
    {
        TestResponse response = Ask(Alias, DnsRecordType.A);

        Assert.Equal([(DnsRecordType.CNAME, "web.default.svc.cluster.local."), (DnsRecordType.A, "10.96.0.20")], response.Answers.Select(a => (a.Type, a.Data)));
        Assert.Equal("web.default.svc.cluster.local.", response.Answers[1].Owner);
    }

    [Fact]
    public void Other_types_and_a_target_without_that_family_get_the_cname_alone()
    {
        Assert.Equal(["web.default.svc.cluster.local."], Ask(Alias, DnsRecordType.AAAA).AnswerData);
        Assert.Equal(["web.default.svc.cluster.local."], Ask(Alias, DnsRecordType.TXT).AnswerData);
    }

    [Fact]
    public void The_alias_follows_the_target_changing_and_going_away()
    {
        _index.SetService(ClusterIp("default", "web", ["10.96.0.99"]));
        Assert.Equal(["web.default.svc.cluster.local.", "10.96.0.99"], Ask(Alias, DnsRecordType.A).AnswerData);

        _index.RemoveService(ClusterIp("default", "web", ["10.96.0.99"]));
        Assert.Equal(["web.default.svc.cluster.local."], Ask(Alias, DnsRecordType.A).AnswerData);
    }

    private TestResponse Ask(string name, DnsRecordType type)
    {
        byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];
        int length = new DnsQueryHandler(_index, 1232).Handle(TestQuery.Create(name, type), response, overTcp: true);
        return TestResponse.Parse(response.AsSpan(0, length));
    }
}
