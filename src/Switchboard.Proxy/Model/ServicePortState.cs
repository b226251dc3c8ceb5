using System.Collections.Immutable;

namespace Switchboard.Proxy.Model;

/// <summary>
/// What the proxy programs for one port of one service: its cluster IP and port, its NodePort, its session affinity
/// and the endpoints it uses (already chosen: ready ones, or serving-terminating ones when none is ready).
/// Compared by value, so a sync can tell which service ports changed since they were programmed.
/// </summary>
internal sealed class ServicePortState : IEquatable<ServicePortState>
{
    public ServicePortState(string name, string protocol, string clusterIp, int port, int nodePort, int affinitySeconds, ImmutableArray<ProxyEndpoint> endpoints)
    {
        Name = name;
        Protocol = protocol;
        ClusterIp = clusterIp;
        Port = port;
        NodePort = nodePort;
        AffinitySeconds = affinitySeconds;
        Endpoints = endpoints;
        ServiceChain = ChainNames.ServicePort(name, protocol);
        ExternalChain = ChainNames.External(name, protocol);
    }

    /// <summary>The service port name, <c>namespace/name</c> plus <c>:port</c> when the port is named.</summary>
    public string Name { get; }

    /// <summary>Lower case: tcp, udp or sctp.</summary>
    public string Protocol { get; }

    public string ClusterIp { get; }

    public int Port { get; }

    /// <summary>0 when the service has no NodePort.</summary>
    public int NodePort { get; }

    /// <summary>The ClientIP affinity timeout; 0 when the service has no session affinity.</summary>
    public int AffinitySeconds { get; }

    public ImmutableArray<ProxyEndpoint> Endpoints { get; }

    /// <summary>KUBE-SVC-…, which also identifies the service port among all others.</summary>
    public string ServiceChain { get; }

    /// <summary>KUBE-EXT-…, used when the service has a NodePort.</summary>
    public string ExternalChain { get; }

    public bool HasEndpoints => !Endpoints.IsEmpty;

    /// <summary>Whether the rules this port adds to the shared chains (KUBE-SERVICES, KUBE-NODEPORTS, filter) are the same.</summary>
    public bool SameEntryRules(ServicePortState other) =>
        Name == other.Name && Protocol == other.Protocol && ClusterIp == other.ClusterIp && Port == other.Port &&
        NodePort == other.NodePort && HasEndpoints == other.HasEndpoints;

    public bool Equals(ServicePortState? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            (SameEntryRules(other) && AffinitySeconds == other.AffinitySeconds && Endpoints.SequenceEqual(other.Endpoints)));

    public override bool Equals(object? obj) => Equals(obj as ServicePortState);

    public override int GetHashCode() => HashCode.Combine(ServiceChain, ClusterIp, Port, NodePort, Endpoints.Length);

    public override string ToString() => $"{Name} {Protocol} {ClusterIp}:{Port} ({Endpoints.Length} endpoints)";
}
