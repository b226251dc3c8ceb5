using BenchmarkDotNet.Attributes;
using k8s.Models;
using Switchboard.Dns.Zones;

namespace Switchboard.Benchmarks.Dns;

/// <summary>What one watch event costs: changing one service in a zone of 10,000 and publishing the new snapshot.</summary>
[MemoryDiagnoser]
public class IndexUpdateBenchmarks
{
    private const int Services = 10_000;
    private const int Namespaces = 100;

    private ClusterDnsIndex _index = null!;
    private int _generation;

    [GlobalSetup]
    public void Setup()
    {
        _index = new ClusterDnsIndex(new ClusterZoneOptions(), TimeProvider.System);
        _index.ReplaceAll([], Enumerable.Range(0, Services).Select(i => Service(i, 80)), [], []);
        _index.MarkSynced();
    }

    [Benchmark]
    public void ChangeOneService() => _index.SetService(Service(5000, 1000 + (_generation++ % 1000)));

    private static V1Service Service(int i, int port) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"svc{i}", NamespaceProperty = $"ns{i % Namespaces}" },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = $"10.96.{i / 250}.{i % 250}",
            Ports = [new V1ServicePort { Name = "http", Protocol = "TCP", Port = port }],
        },
    };
}
