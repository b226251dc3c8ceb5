using System.Collections.Immutable;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Nftables;

/// <summary>A service port with the names of the nftables chains and sets kube-proxy's layout gives it, computed once.</summary>
internal sealed class NftServicePort
{
    public NftServicePort(ServicePortState state)
    {
        State = state;
        string name = NftablesNames.ServicePortBase(state.Name, state.Protocol);
        ServiceChain = "service-" + name;
        ExternalChain = "external-" + name;
        EndpointChains = [.. state.Endpoints.Select(ep => "endpoint-" + NftablesNames.EndpointBase(state.Name, state.Protocol, ep.Ip, ep.Port))];
        AffinitySets = state.AffinitySeconds > 0
            ? [.. state.Endpoints.Select(ep => "affinity-" + NftablesNames.EndpointBase(state.Name, state.Protocol, ep.Ip, ep.Port))]
            : [];
    }

    public ServicePortState State { get; }

    /// <summary><c>service-HASH-ns/svc/tcp/port</c>: picks an endpoint (kube-proxy's cluster-policy chain).</summary>
    public string ServiceChain { get; }

    /// <summary><c>external-HASH-…</c>: NodePort traffic, masqueraded, then on to <see cref="ServiceChain"/>.</summary>
    public string ExternalChain { get; }

    /// <summary><c>endpoint-HASH-…__ip/port</c>, one per endpoint, in the order of <see cref="ServicePortState.Endpoints"/>.</summary>
    public ImmutableArray<string> EndpointChains { get; }

    /// <summary><c>affinity-HASH-…__ip/port</c>, one per endpoint with ClientIP affinity, else none.</summary>
    public ImmutableArray<string> AffinitySets { get; }

    /// <summary>Whether the port has any chain: without endpoints it is only an element of the no-endpoint maps.</summary>
    public bool HasChains => State.HasEndpoints;

    public bool HasExternalChain => State.HasEndpoints && State.NodePort != 0;
}
