using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;

namespace Switchboard.Benchmarks.Proxy;

/// <summary>
/// Rendering the iptables-restore document for 10,000 services × 3 endpoints: a full sync, and a partial sync after
/// one service changed. Both write into one reused buffer; once it has grown, Allocated should stay near 0.
/// </summary>
[MemoryDiagnoser]
public class IptablesRenderBenchmarks
{
    private const int Services = 10_000;

    private IptablesRuleSet _full = null!;
    private IptablesRuleSet _partial = null!;
    private List<ServicePortState> _desired = [];
    private List<ServicePortState> _changed = [];
    private bool _flip;

    [GlobalSetup]
    public void Setup()
    {
        _desired = [.. Enumerable.Range(0, Services).Select(i => ServicePort(i, endpointOffset: 0))];
        _changed = [.. _desired];
        _changed[Services / 2] = ServicePort(Services / 2, endpointOffset: 100);

        var options = new IptablesOptions { ClusterCidr = "10.244.0.0/16" };
        _full = new IptablesRuleSet(options);
        _partial = new IptablesRuleSet(options);
        _partial.Render(_desired, null);
        _partial.Applied();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _full.Dispose();
        _partial.Dispose();
    }

    [Benchmark]
    public int FullSync()
    {
        _full.Render(_desired, null);
        return _full.Document.Length;
    }

    /// <summary>One service's endpoints change back and forth; each render is a partial sync of that one service.</summary>
    [Benchmark]
    public int PartialSyncOneService()
    {
        _flip = !_flip;
        _partial.Render(_flip ? _changed : _desired, null);
        _partial.Applied();
        return _partial.Document.Length;
    }

    private static ServicePortState ServicePort(int i, int endpointOffset)
    {
        string name = $"ns{i % 100}/svc{i}:http";
        var endpoints = Enumerable.Range(0, 3)
            .Select(e => new ProxyEndpoint(name, "tcp", $"10.244.{(i * 3) / 250 % 250}.{((i * 3) + e + endpointOffset) % 250}", 8080))
            .ToImmutableArray();
        return new ServicePortState(name, "tcp", $"10.96.{i / 250}.{i % 250}", 80, 0, 0, endpoints);
    }
}
