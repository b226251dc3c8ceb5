using System.Net;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;
using Switchboard.Dns.Zones;
using static Switchboard.Dns.Tests.Support.TestObjects;

namespace Switchboard.Dns.Tests.Zones;

public sealed class ClusterDnsIndexTests
{
    [Fact]
    public void Before_sync_negative_answers_are_servfail_and_positive_ones_are_served()
    {
        var cluster = new TestCluster(synced: false);

        Assert.False(cluster.Index.IsSynced);
        Assert.Equal(DnsResponseCode.ServFail, cluster.Ask("nope.default.svc.cluster.local", DnsRecordType.A).Code);
        Assert.Equal(DnsResponseCode.ServFail, cluster.Ask("web.default.svc.cluster.local", DnsRecordType.AAAA).Code);
        Assert.Equal(["10.96.0.20"], cluster.Ask("web.default.svc.cluster.local", DnsRecordType.A).AnswerData);

        cluster.Index.MarkSynced();

        Assert.True(cluster.Index.IsSynced);
        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("nope.default.svc.cluster.local", DnsRecordType.A).Code);
    }

    [Fact]
    public void Changes_publish_a_new_snapshot_and_leave_the_old_one_untouched()
    {
        var cluster = new TestCluster();
        ClusterZoneSnapshot before = cluster.Index.Snapshot;
        byte[] name = DnsName.Parse("api.default.svc.cluster.local");

        cluster.Index.SetService(ClusterIp("default", "api", ["10.96.0.99"]));

        Assert.NotSame(before, cluster.Index.Snapshot);
        Assert.Equal(ZoneAnswerKind.NXDomain, before.Lookup(name, (ushort)DnsRecordType.A).Kind);
        Assert.Equal(["10.96.0.99"], cluster.Ask("api.default.svc.cluster.local", DnsRecordType.A).AnswerData);

        cluster.Index.RemoveService(ClusterIp("default", "api", []));

        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("api.default.svc.cluster.local", DnsRecordType.A).Code);
    }

    [Fact]
    public void Endpoint_slice_changes_move_headless_answers()
    {
        var cluster = new TestCluster();
        V1EndpointSliceReady("10.244.2.1", out var slice);

        cluster.Index.SetEndpointSlice(slice);

        Assert.Equal(["10.244.1.9", "10.244.2.1"], cluster.Ask("publish.default.svc.cluster.local", DnsRecordType.A).AnswerData.Order());

        cluster.Index.RemoveEndpointSlice(slice);

        Assert.Equal(["10.244.1.9"], cluster.Ask("publish.default.svc.cluster.local", DnsRecordType.A).AnswerData);
    }

    [Fact]
    public void A_headless_service_whose_last_endpoint_becomes_unready_disappears()
    {
        var cluster = new TestCluster();

        cluster.Index.SetEndpointSlice(Slice("default", "db", "db-a", "IPv4", [Endpoint("10.244.1.6", ready: false)]));
        cluster.Index.RemoveEndpointSlice(Slice("default", "db", "db-b", "IPv4", []));

        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("db.default.svc.cluster.local", DnsRecordType.A).Code);
        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("db-0.db.default.svc.cluster.local", DnsRecordType.A).Code);
    }

    [Fact]
    public void Verified_pods_answer_only_for_existing_pods()
    {
        var cluster = new TestCluster(new ClusterZoneOptions { Pods = PodRecordMode.Verified });

        Assert.Equal(["10.244.1.5"], cluster.Ask("10-244-1-5.default.pod.cluster.local", DnsRecordType.A).AnswerData);
        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("10-9-9-9.default.pod.cluster.local", DnsRecordType.A).Code);

        cluster.Index.RemovePod(Pod("default", "pod-a", "10.244.1.5"));

        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("10-244-1-5.default.pod.cluster.local", DnsRecordType.A).Code);
    }

    [Fact]
    public void Disabled_pods_are_nxdomain()
    {
        var cluster = new TestCluster(new ClusterZoneOptions { Pods = PodRecordMode.Disabled });

        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("10-244-1-5.default.pod.cluster.local", DnsRecordType.A).Code);
        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("default.pod.cluster.local", DnsRecordType.A).Code);
    }

    [Fact]
    public void Domain_ttl_and_name_server_are_configurable()
    {
        var cluster = new TestCluster(new ClusterZoneOptions
        {
            Domain = "Corp.Internal.",
            Ttl = 5,
            NameServerAddresses = [IPAddress.Parse("10.96.0.10")],
        });

        TestRecord answer = cluster.Ask("web.default.svc.corp.internal", DnsRecordType.A).Answers.Single();
        TestResponse ns = cluster.Ask("corp.internal", DnsRecordType.NS);
        TestResponse negative = cluster.Ask("nope.default.svc.corp.internal", DnsRecordType.A);

        Assert.Equal(5u, answer.Ttl);
        Assert.Equal(["ns.dns.corp.internal."], ns.AnswerData);
        Assert.Equal("ns.dns.corp.internal. A 10.96.0.10", ns.Additional.Select(r => $"{r.Owner} {r.Type} {r.Data}").Single());
        Assert.Equal(5u, negative.Authority.Single().Ttl);
        Assert.Equal(DnsResponseCode.Refused, cluster.Ask("web.default.svc.cluster.local", DnsRecordType.A).Code);
    }

    [Fact]
    public void Namespaces_come_and_go()
    {
        var cluster = new TestCluster();

        cluster.Index.SetNamespace(Namespace("fresh"));
        Assert.Equal(DnsResponseCode.NoError, cluster.Ask("fresh.svc.cluster.local", DnsRecordType.A).Code);

        cluster.Index.RemoveNamespace(Namespace("fresh"));
        Assert.Equal(DnsResponseCode.NXDomain, cluster.Ask("fresh.svc.cluster.local", DnsRecordType.A).Code);
    }

    [Theory]
    [InlineData("bad..domain")]
    [InlineData("")]
    public void Rejects_an_invalid_domain(string domain)
    {
        Assert.Throws<ArgumentException>(() => new ClusterDnsIndex(new ClusterZoneOptions { Domain = domain }, TimeProvider.System));
    }

    private static void V1EndpointSliceReady(string ip, out k8s.Models.V1EndpointSlice slice) =>
        slice = Slice("default", "publish", "publish-b", "IPv4", [Endpoint(ip)]);
}
