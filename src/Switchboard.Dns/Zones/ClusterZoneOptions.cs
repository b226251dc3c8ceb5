using System.Net;

namespace Switchboard.Dns.Zones;

/// <summary>Settings of the cluster zone, as the CoreDNS <c>kubernetes</c> plugin names them.</summary>
public sealed record ClusterZoneOptions
{
    /// <summary>The cluster domain the zone is authoritative for.</summary>
    public string Domain { get; init; } = "cluster.local";

    /// <summary>TTL of every record (and the negative TTL); the Kubernetes addon Corefile uses 30.</summary>
    public uint Ttl { get; init; } = 30;

    public PodRecordMode Pods { get; init; } = PodRecordMode.Insecure;

    /// <summary>Addresses of this DNS server, published as <c>ns.dns.&lt;zone&gt;</c> (the apex NS target).</summary>
    public IReadOnlyList<IPAddress> NameServerAddresses { get; init; } = [];
}
