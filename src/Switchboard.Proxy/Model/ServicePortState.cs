using System.Collections.Immutable;

namespace Switchboard.Proxy.Model;

/// <summary>
/// What the proxy programs for one port of one service: its cluster IP and port, its NodePort, external and
/// load-balancer IPs, traffic policies, session affinity and the endpoints it uses (already chosen as kube-proxy's
/// CategorizeEndpoints does: ready ones, or serving-terminating ones when none is ready; and the same among the
/// node's own endpoints for the Local policies). Compared by value, so a sync can tell which service ports changed
/// since they were programmed.
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

    /// <summary>The endpoints of the Cluster traffic policy: every usable endpoint, on any node.</summary>
    public ImmutableArray<ProxyEndpoint> Endpoints { get; }

    /// <summary>The endpoints of the Local traffic policy: this node's ready ones, else its serving-terminating ones.</summary>
    public ImmutableArray<ProxyEndpoint> LocalEndpoints { get; init; } = [];

    /// <summary><c>spec.externalIPs</c> (IPv4): addresses the service answers on, besides its cluster IP.</summary>
    public ImmutableArray<string> ExternalIps { get; init; } = [];

    /// <summary><c>status.loadBalancer.ingress[].ip</c> (IPv4) of a LoadBalancer service, as kube-proxy captures them.</summary>
    public ImmutableArray<string> LoadBalancerIps { get; init; } = [];

    /// <summary>
    /// <c>spec.loadBalancerSourceRanges</c> (IPv4 CIDRs) of a LoadBalancer service: the only clients its
    /// load-balancer IPs accept, as kube-proxy's firewall chains enforce.
    /// </summary>
    public ImmutableArray<string> LoadBalancerSourceRanges { get; init; } = [];

    /// <summary><c>internalTrafficPolicy: Local</c>: cluster IP traffic goes only to this node's endpoints.</summary>
    public bool InternalPolicyLocal { get; init; }

    /// <summary><c>externalTrafficPolicy: Local</c> on an externally reachable service: external traffic goes only to this node's endpoints.</summary>
    public bool ExternalPolicyLocal { get; init; }

    /// <summary>KUBE-SVC-…, which also identifies the service port among all others.</summary>
    public string ServiceChain { get; }

    // The chains below are named when first used: most ports never use them, and three names were about 200 bytes of
    // every port of a proxy holding 10,000 services. A race computes the same name twice, harmlessly.

    /// <summary>KUBE-SVL-…, the chain of <see cref="LocalEndpoints"/>, used by a Local traffic policy.</summary>
    public string LocalChain => field ??= ChainNames.LocalServicePort(Name, Protocol);

    /// <summary>KUBE-EXT-…, used when the service has a NodePort, external IPs or load-balancer IPs.</summary>
    public string ExternalChain => field ??= ChainNames.External(Name, Protocol);

    /// <summary>KUBE-FW-…, used when the service has load-balancer IPs and <see cref="LoadBalancerSourceRanges"/>.</summary>
    public string FirewallChain => field ??= ChainNames.Firewall(Name, Protocol);

    /// <summary>Whether the service has a usable endpoint on any node (kube-proxy's hasEndpoints).</summary>
    public bool HasEndpoints => !Endpoints.IsEmpty;

    /// <summary>Whether anything from outside the cluster network reaches it: a NodePort, external IPs or load-balancer IPs.</summary>
    public bool ExternallyAccessible => NodePort != 0 || !ExternalIps.IsEmpty || !LoadBalancerIps.IsEmpty;

    /// <summary>Whether cluster IP traffic has endpoints to go to under the internal traffic policy.</summary>
    public bool HasInternalEndpoints => InternalPolicyLocal ? !LocalEndpoints.IsEmpty : HasEndpoints;

    /// <summary>Whether external traffic has endpoints to go to under the external traffic policy.</summary>
    public bool HasExternalEndpoints => ExternalPolicyLocal ? !LocalEndpoints.IsEmpty : HasEndpoints;

    /// <summary>Whether the rules this port adds to the shared chains (KUBE-SERVICES, KUBE-NODEPORTS, filter) are the same.</summary>
    public bool SameEntryRules(ServicePortState other) =>
        Name == other.Name && Protocol == other.Protocol && ClusterIp == other.ClusterIp && Port == other.Port &&
        NodePort == other.NodePort && HasEndpoints == other.HasEndpoints &&
        HasInternalEndpoints == other.HasInternalEndpoints && HasExternalEndpoints == other.HasExternalEndpoints &&
        InternalPolicyLocal == other.InternalPolicyLocal && ExternalPolicyLocal == other.ExternalPolicyLocal &&
        ExternalIps.SequenceEqual(other.ExternalIps) && LoadBalancerIps.SequenceEqual(other.LoadBalancerIps) &&
        LoadBalancerSourceRanges.SequenceEqual(other.LoadBalancerSourceRanges);

    public bool Equals(ServicePortState? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            (SameEntryRules(other) && AffinitySeconds == other.AffinitySeconds &&
                Endpoints.SequenceEqual(other.Endpoints) && LocalEndpoints.SequenceEqual(other.LocalEndpoints)));

    public override bool Equals(object? obj) => Equals(obj as ServicePortState);

    public override int GetHashCode() => HashCode.Combine(ServiceChain, ClusterIp, Port, NodePort, Endpoints.Length);

    public override string ToString() => $"{Name} {Protocol} {ClusterIp}:{Port} ({Endpoints.Length} endpoints)";
}
