using BenchmarkDotNet.Attributes;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Dns.Operations;
using Switchboard.Dns.Server;
using Switchboard.Dns.Trace;
using Switchboard.Dns.Wire;
using Switchboard.Dns.Zones;

namespace Switchboard.Benchmarks.Dns;

/// <summary>
/// One query through parse, lookup and encode against a zone of 10,000 services, without sockets.
/// The hot path is meant to allocate nothing: the Allocated column must read 0 (or '-'), also with the answer
/// counted in the metrics and recorded in the trace buffer as the UDP threads do (the <c>Observed</c> pair).
/// </summary>
[MemoryDiagnoser]
public class QueryHandlerBenchmarks
{
    private const int Services = 10_000;
    private const int Namespaces = 100;

    private readonly byte[] _response = new byte[DnsPayloadLimit.MaxMessageSize];
    private static readonly byte[] ClientAddress = [2, 0, 0x9C, 0x40, 10, 244, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0];

    private DnsQueryHandler _handler = null!;
    private DnsObserver _metricsOnly = null!;
    private DnsObserver _traced = null!;
    private byte[] _clusterIp = [];
    private byte[] _clusterIpMixedCaseEdns = [];
    private byte[] _srv = [];
    private byte[] _nxDomain = [];
    private byte[] _pod = [];

    [GlobalSetup]
    public void Setup()
    {
        var index = new ClusterDnsIndex(new ClusterZoneOptions(), TimeProvider.System);
        index.ReplaceAll(
            Enumerable.Range(0, Namespaces).Select(n => new V1Namespace { Metadata = new V1ObjectMeta { Name = $"ns{n}" } }),
            Enumerable.Range(0, Services).Select(Service),
            [],
            []);
        index.MarkSynced();
        _handler = new DnsQueryHandler(index, 1232);
        _metricsOnly = new DnsObserver(new DnsMetrics(), NullLogger.Instance, queryLog: false);
        _traced = new DnsObserver(new DnsMetrics(), NullLogger.Instance, queryLog: false, new DnsTraceBuffer(DnsTraceBuffer.DefaultCapacity, TimeProvider.System));
        _clusterIp = Query("svc5000.ns0.svc.cluster.local", DnsRecordType.A, edns: false);
        _clusterIpMixedCaseEdns = Query("Svc5000.NS0.svc.Cluster.Local", DnsRecordType.A, edns: true);
        _srv = Query("_http._tcp.svc5000.ns0.svc.cluster.local", DnsRecordType.SRV, edns: true);
        _nxDomain = Query("nope.ns0.svc.cluster.local", DnsRecordType.A, edns: false);
        _pod = Query("10-244-1-7.ns0.pod.cluster.local", DnsRecordType.A, edns: false);
        if (_handler.Handle(_clusterIp, _response, overTcp: false) == 0)
        {
            throw new InvalidOperationException("the benchmark query got no answer");
        }
    }

    [Benchmark(Baseline = true)]
    public int ClusterIpA() => _handler.Handle(_clusterIp, _response, overTcp: false);

    [Benchmark]
    public int ClusterIpAMixedCaseEdns() => _handler.Handle(_clusterIpMixedCaseEdns, _response, overTcp: false);

    [Benchmark]
    public int SrvWithGlue() => _handler.Handle(_srv, _response, overTcp: false);

    [Benchmark]
    public int NxDomain() => _handler.Handle(_nxDomain, _response, overTcp: false);

    [Benchmark]
    public int InsecurePodA() => _handler.Handle(_pod, _response, overTcp: false);

    [Benchmark]
    public int ClusterIpAObserved() => Observe(_metricsOnly);

    [Benchmark]
    public int ClusterIpAObservedAndTraced() => Observe(_traced);

    private int Observe(DnsObserver observer)
    {
        long started = DnsObserver.Start();
        int length = _handler.Handle(_clusterIp, _response, overTcp: false, out DnsAnswerSource source);
        observer.Answered(_response.AsSpan(0, length), started, overTcp: false, source, ClientAddress, null);
        return length;
    }

    private static V1Service Service(int i) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"svc{i}", NamespaceProperty = $"ns{i % Namespaces}" },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = $"10.96.{i / 250}.{i % 250}",
            Ports = [new V1ServicePort { Name = "http", Protocol = "TCP", Port = 80 }],
        },
    };

    private static byte[] Query(string name, DnsRecordType type, bool edns)
    {
        byte[] buffer = new byte[512];
        var writer = new DnsMessageWriter(buffer, []);
        writer.TryWriteBytes(new byte[DnsHeader.Size]);
        writer.TryWriteQuestion(DnsName.Parse(name), (ushort)type, (ushort)DnsClass.IN);
        if (edns)
        {
            writer.TryBeginRecord(DnsName.Root, (ushort)DnsRecordType.OPT, 1232, 0, out int rdLength);
            writer.EndRecord(rdLength);
        }

        new DnsHeader(0x4242, DnsHeader.RdFlag, 1, 0, 0, (ushort)(edns ? 1 : 0)).Write(buffer);
        return buffer[..writer.Position];
    }
}
