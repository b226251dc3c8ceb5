using System.Net;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.InCluster;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Zones;

namespace Switchboard.Dns;

/// <summary>Everything <c>switchboard dns</c> can be told; the defaults are the stock Kubernetes Corefile's where one exists.</summary>
public sealed record DnsServiceOptions
{
    /// <summary>UDP+TCP listeners; the host-facing default of Switchboard.</summary>
    public IReadOnlyList<IPEndPoint> Listen { get; init; } = [new IPEndPoint(IPAddress.Loopback, 1053)];

    /// <summary>The cluster domain.</summary>
    public string Zone { get; init; } = "cluster.local";

    /// <summary>TTL of cluster records and of negative answers (the addon Corefile's <c>ttl 30</c>).</summary>
    public uint Ttl { get; init; } = 30;

    public PodRecordMode Pods { get; init; } = PodRecordMode.Insecure;

    /// <summary>Whether names outside the cluster and SkyDNS zones are forwarded at all.</summary>
    public bool Forward { get; init; } = true;

    /// <summary>Upstream resolvers (<c>--upstream ADDR:PORT</c>); empty: the nameservers of /etc/resolv.conf.</summary>
    public IReadOnlyList<IPEndPoint> Upstreams { get; init; } = [];

    /// <summary>
    /// The cluster networks: the pod and service CIDRs (<c>--cluster-networks</c>; in <c>up</c> its own ranges). Besides
    /// loopback, only they may have names forwarded, and they are never rate-limited.
    /// </summary>
    public IReadOnlyList<IPNetwork> ClientNetworks { get; init; } = ForwarderOptions.DefaultClientNetworks;

    /// <summary>
    /// UDP responses a second to each client outside the cluster networks (RRL), when any listener is beyond loopback:
    /// a server others can reach is no amplifier for spoofed queries. 0: no limit.
    /// </summary>
    public int ResponsesPerSecond { get; init; } = 50;

    /// <summary>Where <c>/metrics</c>, <c>/health</c> and <c>/ready</c> are served (CoreDNS's 9153); null: nowhere.</summary>
    public IPEndPoint? OperationsEndPoint { get; init; } = new(IPAddress.Loopback, 9153);

    /// <summary>Log every answered query (client, name, type, rcode, size, duration) at Information.</summary>
    public bool QueryLog { get; init; }

    /// <summary>The SkyDNS zones and the kube2sky mirror; used only when a store is given.</summary>
    public SkyDnsOptions SkyDns { get; init; } = new();

    /// <summary>UDP sockets (and threads) per listener.</summary>
    public int UdpSockets { get; init; } = Environment.ProcessorCount;

    /// <summary>Serve pods too, as kube-dns's endpoint in the node's namespace; null: the host's listeners only.</summary>
    public InClusterDnsOptions? InCluster { get; init; }

    /// <summary>Answers kept for <c>switchboard trace --last N</c> and <c>-f</c> (≈560 bytes each); 0: no trace at all.</summary>
    public int TraceBuffer { get; init; } = Trace.DnsTraceBuffer.DefaultCapacity;

    /// <summary>Largest UDP reply to EDNS clients.</summary>
    public int MaxUdpPayloadSize { get; init; } = 1232;
}
