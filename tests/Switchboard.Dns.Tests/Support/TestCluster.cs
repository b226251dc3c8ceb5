using Microsoft.Extensions.Time.Testing;
using Switchboard.Dns.Server;
using Switchboard.Dns.Wire;
using Switchboard.Dns.Zones;
using static Switchboard.Dns.Tests.Support.TestObjects;

namespace Switchboard.Dns.Tests.Support;

/// <summary>An index fed with a small cluster, and a way to ask it questions through the real query handler.</summary>
internal sealed class TestCluster
{
    /// <summary>Endpoints of headless <c>big.default</c>: more A records than fit in 512 bytes.</summary>
    public const int BigEndpoints = 60;

    public static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public TestCluster(ClusterZoneOptions? options = null, bool synced = true)
    {
        Index = new ClusterDnsIndex(options ?? new ClusterZoneOptions(), new FakeTimeProvider(Now));
        Handler = new DnsQueryHandler(Index, 1232);
        Index.ReplaceAll(
            [Namespace("default"), Namespace("other")],
            [
                ClusterIp("default", "web", ["10.96.0.20"], ("http", "TCP", 80), ("dns", "UDP", 53), (null, "TCP", 8080)),
                ClusterIp("default", "dual", ["10.96.0.21", "fd00::21"], ("http", "TCP", 80)),
                ClusterIp("default", "v6only", ["fd00::22"]),
                ClusterIp("default", "empty", ["10.96.0.23"]),
                Headless("default", "db"),
                Headless("default", "none-ready"),
                Headless("default", "publish", publishNotReady: true),
                ExternalName("default", "ext", "www.Example.com"),
            ],
            [
                Slice("default", "db", "db-a", "IPv4", [Endpoint("10.244.1.5", "db-0"), Endpoint("10.244.1.6", ready: null), Endpoint("10.244.1.7", ready: false)], ("pg", "TCP", 5432)),
                Slice("default", "db", "db-b", "IPv4", [Endpoint("10.244.1.5", "db-0")], ("pg", "TCP", 5432)),
                Slice("default", "none-ready", "none-ready-a", "IPv4", [Endpoint("10.244.1.8", ready: false)], ("pg", "TCP", 5432)),
                Slice("default", "publish", "publish-a", "IPv4", [Endpoint("10.244.1.9", ready: false)]),
            ],
            [Pod("default", "pod-a", "10.244.1.5")]);
        Index.SetService(Headless("default", "big"));
        Index.SetEndpointSlice(Slice(
            "default",
            "big",
            "big-a",
            "IPv4",
            [.. Enumerable.Range(1, BigEndpoints).Select(i => Endpoint($"10.244.3.{i}"))],
            ("http", "TCP", 8080)));
        if (synced)
        {
            Index.MarkSynced();
        }
    }

    public ClusterDnsIndex Index { get; }

    public DnsQueryHandler Handler { get; }

    public TestResponse Ask(string name, DnsRecordType type, ushort? udpSize = null, bool overTcp = false) =>
        Ask(TestQuery.Create(name, type, udpSize: udpSize), overTcp);

    public TestResponse Ask(byte[] query, bool overTcp = false)
    {
        byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];
        int length = Handler.Handle(query, response, overTcp);
        Assert.True(length > 0, "the handler dropped the query");
        return TestResponse.Parse(response.AsSpan(0, length));
    }
}
