using CsCheck;
using Microsoft.Extensions.Time.Testing;
using k8s.Models;
using Switchboard.Dns.Server;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;
using Switchboard.Dns.Zones;
using static Switchboard.Dns.Tests.Support.TestObjects;

namespace Switchboard.Dns.Tests.Zones;

/// <summary>Any sequence of watch events must leave the index answering exactly as one built from the final state.</summary>
public sealed class IncrementalUpdateTests
{
    private static readonly DnsRecordType[] Types =
        [DnsRecordType.A, DnsRecordType.AAAA, DnsRecordType.SRV, DnsRecordType.PTR, DnsRecordType.CNAME, DnsRecordType.TXT, DnsRecordType.SOA, DnsRecordType.NS];

    private static readonly string[] Namespaces = ["a", "b"];
    private static readonly string[] ServiceNames = ["s1", "s2", "s3"];
    private static readonly string[] Ips = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::1"];

    private static readonly Gen<V1Service> ServiceGen =
        Gen.Select(Gens.Pick(Namespaces), Gens.Pick(ServiceNames), Gen.Int[0, 2], Gens.Pick(Ips), Gen.Bool)
            .Select((ns, name, kind, ip, named) => kind switch
            {
                0 => ClusterIp(ns, name, [ip], [((string?)(named ? "http" : null), "TCP", 80)]),
                1 => Headless(ns, name),
                _ => ExternalName(ns, name, $"{name}.example.com"),
            });

    private static readonly Gen<V1EndpointSlice> SliceGen =
        Gen.Select(Gens.Pick(Namespaces), Gens.Pick(ServiceNames), Gens.Pick("e1", "e2"), Gen.Select(Gens.Pick(Ips), Gens.Pick<string?>(null, "h1"), Gens.Pick<bool?>(true, false, null)).Array[0, 3])
            .Select((ns, service, name, endpoints) => Slice(
                ns,
                service,
                name,
                "IPv4",
                [.. endpoints.Where(e => !e.Item1.Contains(':')).Select(e => Endpoint(e.Item1, e.Item2, e.Item3))],
                ("pg", "TCP", 5432)));

    private static readonly Gen<V1Pod> PodGen =
        Gen.Select(Gens.Pick(Namespaces), Gens.Pick("p1", "p2"), Gens.Pick(Ips)).Select((ns, name, ip) => Pod(ns, name, ip));

    private static readonly Gen<Action<ClusterDnsIndex, World>> Operation = Gen.OneOf(
        ServiceGen.Select<V1Service, Action<ClusterDnsIndex, World>>(s => (index, world) => { index.SetService(s); world.Services[Key(s.Metadata)] = s; }),
        ServiceGen.Select<V1Service, Action<ClusterDnsIndex, World>>(s => (index, world) => { index.RemoveService(s); world.Services.Remove(Key(s.Metadata)); }),
        SliceGen.Select<V1EndpointSlice, Action<ClusterDnsIndex, World>>(s => (index, world) => { index.SetEndpointSlice(s); world.Slices[Key(s.Metadata)] = s; }),
        SliceGen.Select<V1EndpointSlice, Action<ClusterDnsIndex, World>>(s => (index, world) => { index.RemoveEndpointSlice(s); world.Slices.Remove(Key(s.Metadata)); }),
        PodGen.Select<V1Pod, Action<ClusterDnsIndex, World>>(p => (index, world) => { index.SetPod(p); world.Pods[Key(p.Metadata)] = p; }),
        PodGen.Select<V1Pod, Action<ClusterDnsIndex, World>>(p => (index, world) => { index.RemovePod(p); world.Pods.Remove(Key(p.Metadata)); }),
        Gens.Pick(Namespaces).Select<string, Action<ClusterDnsIndex, World>>(n => (index, world) => { index.SetNamespace(Namespace(n)); world.Namespaces.Add(n); }),
        Gens.Pick(Namespaces).Select<string, Action<ClusterDnsIndex, World>>(n => (index, world) => { index.RemoveNamespace(Namespace(n)); world.Namespaces.Remove(n); }));

    [Fact]
    public void Incremental_changes_answer_like_a_full_rebuild()
    {
        Operation.Array[1, 30].Sample(operations =>
        {
            var options = new ClusterZoneOptions { Pods = PodRecordMode.Verified };
            var time = new FakeTimeProvider(TestCluster.Now);
            var incremental = new ClusterDnsIndex(options, time);
            incremental.MarkSynced();
            var world = new World();
            foreach (Action<ClusterDnsIndex, World> operation in operations)
            {
                operation(incremental, world);
            }

            var rebuilt = new ClusterDnsIndex(options, time);
            rebuilt.ReplaceAll(world.Namespaces.Select(Namespace), world.Services.Values, world.Slices.Values, world.Pods.Values);
            rebuilt.MarkSynced();

            HashSet<string> names = [.. Names(incremental), .. Names(rebuilt)];
            foreach (string name in names)
            {
                foreach (DnsRecordType type in Types)
                {
                    Assert.Equal(Describe(rebuilt, name, type), Describe(incremental, name, type));
                }
            }
        }, iter: 300);
    }

    private static IEnumerable<string> Names(ClusterDnsIndex index) => index.Snapshot.Nodes.Keys.Select(k => DnsName.ToText(k));

    private static string Describe(ClusterDnsIndex index, string name, DnsRecordType type)
    {
        byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];
        int length = new DnsQueryHandler(index, 1232).Handle(TestQuery.Create(name, type), response, overTcp: true);
        TestResponse parsed = TestResponse.Parse(response.AsSpan(0, length));
        IEnumerable<string> records = parsed.Answers.Concat(parsed.Authority).Concat(parsed.Additional).Select(r => $"{r.Owner} {r.Type} {r.Ttl} {r.Data}").Order();
        return $"{name} {type} {parsed.Code} aa={parsed.Authoritative} " + string.Join(" | ", records);
    }

    private static (string, string) Key(V1ObjectMeta metadata) => (metadata.NamespaceProperty, metadata.Name);

    private sealed class World
    {
        public Dictionary<(string, string), V1Service> Services { get; } = [];

        public Dictionary<(string, string), V1EndpointSlice> Slices { get; } = [];

        public Dictionary<(string, string), V1Pod> Pods { get; } = [];

        public HashSet<string> Namespaces { get; } = [];
    }
}
