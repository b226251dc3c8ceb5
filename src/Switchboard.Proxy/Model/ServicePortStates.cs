using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using k8s.Models;

namespace Switchboard.Proxy.Model;

/// <summary>
/// Turns a Service and its EndpointSlices into the service ports the proxy programs, choosing endpoints as
/// kube-proxy's CategorizeEndpoints does for the Cluster traffic policy: the ready ones; when none is ready,
/// the serving-and-terminating ones, so connections drain to pods that are shutting down gracefully.
/// </summary>
internal static class ServicePortStates
{
    /// <summary>The default ClientIP affinity timeout (3 hours), as the API server defaults it.</summary>
    public const int DefaultAffinitySeconds = 10800;

    private const string IPv4 = "IPv4";

    /// <summary>The IPv4 service ports of <paramref name="service"/>; none for headless and ExternalName services.</summary>
    public static IReadOnlyList<ServicePortState> From(V1Service service, IEnumerable<V1EndpointSlice> slices)
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
        var ipv4Slices = slices.Where(s => s.AddressType == IPv4).ToList();
        var ports = new List<ServicePortState>(spec.Ports.Count);
        foreach (var port in spec.Ports)
        {
            string protocol = (port.Protocol ?? "TCP").ToLowerInvariant();
            string name = string.IsNullOrEmpty(port.Name)
                ? $"{service.Namespace()}/{service.Name()}"
                : $"{service.Namespace()}/{service.Name()}:{port.Name}";
            var endpoints = Endpoints(name, protocol, port, ipv4Slices);
            ports.Add(new ServicePortState(name, protocol, clusterIp!, port.Port, port.NodePort ?? 0, affinity, endpoints));
        }

        return ports;
    }

    private static ImmutableArray<ProxyEndpoint> Endpoints(string name, string protocol, V1ServicePort servicePort, List<V1EndpointSlice> slices)
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
                var candidate = new ProxyEndpoint(name, protocol, endpoint.Addresses[0], port.Value);
                target?.TryAdd(candidate.Address, candidate);
            }
        }

        return [.. (ready.Count > 0 ? ready : terminating).Values];
    }

    private static bool IsIPv4(string? address) =>
        IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork;
}
