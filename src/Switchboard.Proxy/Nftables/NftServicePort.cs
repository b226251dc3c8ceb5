using System.Collections.Immutable;
using Switchboard.Kube.Networking;
using Switchboard.Proxy.Model;
using L = Switchboard.Proxy.Nftables.NftablesLayout;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// A service port as our nftables layout programs it: every set and map element it owns, the selection chains (by
/// class) its entries go through, the endpoint addresses it adds to the hairpin set and its firewall chain. Computed
/// once per state, so a sync compares the element lists of the programmed and the desired port and sends the difference.
/// </summary>
internal sealed class NftServicePort
{
    public NftServicePort(ServicePortState state)
    {
        State = state;
        var s = state;
        var elements = new List<NftElement>();
        var selections = new List<(NftSelector, NftClass)>();
        var hairpin = new HashSet<string>(StringComparer.Ordinal);

        // kube-proxy's CategorizeEndpoints: the Cluster policy's endpoints, and the node's own for a Local policy.
        bool usesLocal = (s.InternalPolicyLocal || s.ExternalPolicyLocal) && !s.LocalEndpoints.IsEmpty;
        if (s.HasInternalEndpoints)
        {
            byte[] key = L.AddressKey(s.ClusterIp, s.Protocol, s.Port);
            elements.Add(new(L.ClusterIps, key));
            Entry(L.Selectors[0], key, s.InternalPolicyLocal ? s.LocalEndpoints : s.Endpoints);
        }
        else
        {
            elements.Add(new(s.HasEndpoints ? L.NoLocalEndpointServices : L.NoEndpointServices, L.AddressKey(s.ClusterIp, s.Protocol, s.Port)));
        }

        var externalAddresses = s.ExternalIps.Concat(s.LoadBalancerIps).Distinct(StringComparer.Ordinal).ToList();
        if (s.HasEndpoints)
        {
            foreach (string ip in externalAddresses)
            {
                External(L.AddressKey(ip, s.Protocol, s.Port), 1);
            }

            if (s.NodePort != 0)
            {
                External(L.NodePortKey(s.Protocol, s.NodePort), 3);
            }
        }

        if (!s.HasExternalEndpoints)
        {
            bool none = !s.HasEndpoints;
            foreach (string ip in externalAddresses)
            {
                elements.Add(new(none ? L.NoEndpointExternals : L.NoLocalEndpointExternals, L.AddressKey(ip, s.Protocol, s.Port)));
            }

            if (s.NodePort != 0)
            {
                elements.Add(new(none ? L.NoEndpointNodePorts : L.NoLocalEndpointNodePorts, L.NodePortKey(s.Protocol, s.NodePort)));
            }
        }

        if (!s.LoadBalancerSourceRanges.IsEmpty && !s.LoadBalancerIps.IsEmpty)
        {
            FirewallChain = "firewall-" + NftablesNames.ServicePortBase(s.Name, s.Protocol);
            FirewallRanges = [.. s.LoadBalancerSourceRanges.Select(Ipv4Cidr.Parse)];
            foreach (string ip in s.LoadBalancerIps)
            {
                elements.Add(new(L.FirewallIps, L.AddressKey(ip, s.Protocol, s.Port), Chain: FirewallChain));
            }
        }

        Elements = elements;
        Selections = selections;
        HairpinAddresses = hairpin;

        // The entry in its class set, and (entry . index) : endpoint for each endpoint.
        void Entry(NftSelector selector, byte[] key, ImmutableArray<ProxyEndpoint> endpoints)
        {
            var c = new NftClass(endpoints.Length, s.AffinitySeconds);
            elements.Add(new(selector.SetOf(c), key));
            for (int i = 0; i < endpoints.Length; i++)
            {
                elements.Add(new(selector.Endpoints, L.IndexedKey(key, i), L.EndpointData(endpoints[i].Ip, endpoints[i].Port)));
                hairpin.Add(endpoints[i].Ip);
            }

            selections.Add((selector, c));
        }

        // Cluster policy: all endpoints for everyone. Local policy: the node's own for clients from outside (none:
        // the filter drops them), all endpoints for pods and the node itself.
        void External(byte[] key, int selector)
        {
            var (cluster, local) = (L.Selectors[selector], L.Selectors[selector + 1]);
            elements.Add(new(s.ExternalPolicyLocal ? local.Set : cluster.Set, key));
            Entry(cluster, key, s.Endpoints);
            if (s.ExternalPolicyLocal && usesLocal)
            {
                Entry(local, key, s.LocalEndpoints);
            }
        }
    }

    public ServicePortState State { get; }

    /// <summary>Every element the port owns, in the maps and sets of <see cref="NftablesLayout"/>.</summary>
    public IReadOnlyList<NftElement> Elements { get; }

    /// <summary>The selection chains its entries go through, with the class each entry has there.</summary>
    public IReadOnlyList<(NftSelector Selector, NftClass Class)> Selections { get; }

    /// <summary>The addresses of the endpoints it uses: each needs <c>ADDRESS . ADDRESS</c> in the hairpin set.</summary>
    public IReadOnlySet<string> HairpinAddresses { get; }

    /// <summary><c>firewall-HASH-ns/svc/proto/port</c> when the port has loadBalancerSourceRanges and load-balancer IPs.</summary>
    public string? FirewallChain { get; }

    public ImmutableArray<Ipv4Cidr> FirewallRanges { get; } = [];
}
