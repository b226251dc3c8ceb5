using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Switchboard.Kube.Networking;

namespace Switchboard.Proxy.Model;

/// <summary>
/// Turns a Service and its EndpointSlices into the service ports the proxy programs, choosing endpoints as
/// kube-proxy's CategorizeEndpoints does: for the Cluster traffic policy the ready ones, and when none is ready the
/// serving-and-terminating ones, so connections drain to pods that are shutting down gracefully; for the Local
/// policies the same choice among the endpoints on this node.
/// </summary>
internal static class ServicePortStates
{
    /// <summary>The default ClientIP affinity timeout (3 hours), as the API server defaults it.</summary>
    public const int DefaultAffinitySeconds = 10800;

    private const string IPv4 = "IPv4";
    private const string Local = "Local";

    /// <summary>The IPv4 service ports of <paramref name="service"/>; none for headless and ExternalName services.</summary>
    public static IReadOnlyList<ServicePortState> From(V1Service service, IEnumerable<V1EndpointSlice> slices) => From(service, slices, nodeName: null);

    /// <summary>
    /// The IPv4 service ports of <paramref name="service"/> as the proxy of node <paramref name="nodeName"/> programs
    /// them: endpoints whose <c>nodeName</c> it is are local. None for headless and ExternalName services.
    /// </summary>
    public static IReadOnlyList<ServicePortState> From(V1Service service, IEnumerable<V1EndpointSlice> slices, string? nodeName)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(slices);
        var spec = service.Spec;
        string? clusterIp = spec?.ClusterIP;
        if (spec?.Ports is null || spec.Type == "ExternalName" || !IsIPv4(clusterIp))
        {
            return [];
        }

        int affinity = spec.SessionAffinity == "ClientIP"
            ? spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds ?? DefaultAffinitySeconds
            : 0;
        ImmutableArray<string> externalIps = [.. (spec.ExternalIPs ?? []).Where(IsIPv4).Distinct(StringComparer.Ordinal)];
        // kube-proxy leaves ingress IPs in "Proxy" mode to the load balancer, which sends to the node instead.
        ImmutableArray<string> loadBalancerIps = spec.Type == "LoadBalancer"
            ? [.. (service.Status?.LoadBalancer?.Ingress ?? []).Where(i => i.IpMode != "Proxy").Select(i => i.Ip).Where(IsIPv4).Distinct(StringComparer.Ordinal)]
            : [];
        // The API server validates the ranges; an IPv6 one is for the other family's rules.
        ImmutableArray<string> sourceRanges = loadBalancerIps.IsEmpty
            ? []
            : [.. (spec.LoadBalancerSourceRanges ?? []).Select(r => Ipv4Cidr.TryParse(r.Trim(), out var cidr) ? cidr.ToString() : null).OfType<string>().Distinct(StringComparer.Ordinal)];
        var ipv4Slices = slices.Where(s => s.AddressType == IPv4).ToList();
        var ports = new List<ServicePortState>(spec.Ports.Count);
        foreach (var port in spec.Ports)
        {
            string protocol = LowerProtocol(port.Protocol);
            string name = string.IsNullOrEmpty(port.Name)
                ? $"{service.Namespace()}/{service.Name()}"
                : $"{service.Namespace()}/{service.Name()}:{port.Name}";
            var (endpoints, local) = Endpoints(name, protocol, port, ipv4Slices, nodeName);
            int nodePort = spec.Type is "NodePort" or "LoadBalancer" ? port.NodePort ?? 0 : 0;
            bool externallyAccessible = nodePort != 0 || !externalIps.IsEmpty || !loadBalancerIps.IsEmpty;
            ports.Add(new ServicePortState(name, protocol, clusterIp!, port.Port, nodePort, affinity, endpoints)
            {
                ExternalIps = externalIps,
                LoadBalancerIps = loadBalancerIps,
                LoadBalancerSourceRanges = sourceRanges,
                InternalPolicyLocal = spec.InternalTrafficPolicy == Local,
                ExternalPolicyLocal = externallyAccessible && spec.ExternalTrafficPolicy == Local,
                LocalEndpoints = local,
            });
        }

        return ports;
    }

    private static (ImmutableArray<ProxyEndpoint> Cluster, ImmutableArray<ProxyEndpoint> Local) Endpoints(
        string name, string protocol, V1ServicePort servicePort, List<V1EndpointSlice> slices, string? nodeName)
    {
        // Keyed by ip:port: an endpoint listed twice (in two slices during an update) is used once, ready wins.
        var ready = new SortedDictionary<string, ProxyEndpoint>(StringComparer.Ordinal);
        var terminating = new SortedDictionary<string, ProxyEndpoint>(StringComparer.Ordinal);
        foreach (var slice in slices)
        {
            int? port = slice.Ports?.FirstOrDefault(p =>
                (p.Name ?? "") == (servicePort.Name ?? "") && (p.Protocol ?? "TCP").Equals(protocol, StringComparison.OrdinalIgnoreCase))?.Port;
            if (port is null || slice.Endpoints is null)
            {
                continue;
            }

            foreach (var endpoint in slice.Endpoints)
            {
                if (endpoint.Addresses is not { Count: > 0 } || !IsIPv4(endpoint.Addresses[0]))
                {
                    continue;
                }

                // The API says a missing ready condition means ready, and a missing serving condition means "as ready".
                bool isReady = endpoint.Conditions?.Ready ?? true;
                bool isServing = endpoint.Conditions?.Serving ?? isReady;
                bool isTerminating = endpoint.Conditions?.Terminating ?? false;
                var target = isReady ? ready : isServing && isTerminating ? terminating : null;
                var candidate = new ProxyEndpoint(name, protocol, endpoint.Addresses[0], port.Value)
                {
                    IsLocal = nodeName is not null && endpoint.NodeName == nodeName,
                };
                target?.TryAdd(candidate.Address, candidate);
            }
        }

        ImmutableArray<ProxyEndpoint> cluster = [.. (ready.Count > 0 ? ready : terminating).Values];
        ImmutableArray<ProxyEndpoint> localReady = [.. ready.Values.Where(e => e.IsLocal)];
        return (cluster, localReady.IsEmpty ? [.. terminating.Values.Where(e => e.IsLocal)] : localReady);
    }

    /// <summary>The protocol in lower case; the API's three values as literals, not a new string for every port.</summary>
    private static string LowerProtocol(string? protocol) => protocol switch
    {
        null or "TCP" => "tcp",
        "UDP" => "udp",
        "SCTP" => "sctp",
        _ => protocol.ToLowerInvariant(),
    };

    private static bool IsIPv4(string? address) =>
        IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork;
}
