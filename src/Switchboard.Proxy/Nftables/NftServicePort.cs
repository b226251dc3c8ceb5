using System.Collections.Immutable;
using Switchboard.Kube.Networking;
using Switchboard.Proxy.Model;
using L = Switchboard.Proxy.Nftables.NftablesLayout;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// A service port as our nftables layout programs it: every set and map element it owns, the selection rules (by
/// class) its entries need, the endpoint addresses it adds to the hairpin set and its firewall chain. Computed once
/// per state, so a sync compares the element lists of the programmed and the desired port and sends the difference.
/// </summary>
internal sealed class NftServicePort
{
    /// <param name="state">The desired state.</param>
    /// <param name="clusterGroup">The group number of <see cref="ServicePortState.Endpoints"/>, 0 when the port has none.</param>
    /// <param name="localGroup">The group number of <see cref="ServicePortState.LocalEndpoints"/>, 0 when no Local policy uses them.</param>
    public NftServicePort(ServicePortState state, uint clusterGroup, uint localGroup)
    {
        State = state;
        ClusterGroup = clusterGroup;
        LocalGroup = localGroup;
        var s = state;
        var elements = new List<NftElement>();
        var selections = new List<(NftSelector, NftClass)>();
        var hairpin = new HashSet<string>(StringComparer.Ordinal);
        NftClass? clusterClass = clusterGroup == 0 ? null : Group(clusterGroup, state.Endpoints);
        NftClass? localClass = localGroup == 0 ? null : Group(localGroup, state.LocalEndpoints);

        if (s.HasInternalEndpoints)
        {
            var (group, c) = s.InternalPolicyLocal ? (localGroup, localClass!) : (clusterGroup, clusterClass!);
            byte[] key = L.AddressKey(s.ClusterIp, s.Protocol, s.Port);
            elements.Add(new(L.ClusterIps, key));
            Entry(L.Selectors[0], c, key, group);
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

        NftClass Group(uint group, ImmutableArray<ProxyEndpoint> endpoints)
        {
            for (int i = 0; i < endpoints.Length; i++)
            {
                elements.Add(new(L.Endpoints, L.Words(group, (uint)i), L.EndpointData(endpoints[i].Ip, endpoints[i].Port)));
                if (s.AffinitySeconds > 0)
                {
                    elements.Add(new(L.AffinityEndpoints, L.GroupEndpointKey(group, endpoints[i].Ip, endpoints[i].Port)));
                }

                hairpin.Add(endpoints[i].Ip);
            }

            return new NftClass(endpoints.Length, s.AffinitySeconds);
        }

        void Entry(NftSelector selector, NftClass c, byte[] key, uint group)
        {
            elements.Add(new(selector.MapOf(c), key, L.Words(group)));
            selections.Add((selector, c));
        }

        // Cluster policy: all endpoints for everyone. Local policy: the node's own for clients from outside (none:
        // the filter drops them), all endpoints for pods and the node itself.
        void External(byte[] key, int selector)
        {
            var (cluster, local) = (L.Selectors[selector], L.Selectors[selector + 1]);
            elements.Add(new(s.ExternalPolicyLocal ? local.Map : cluster.Map, key));
            Entry(cluster, clusterClass!, key, clusterGroup);
            if (s.ExternalPolicyLocal && localClass is not null)
            {
                Entry(local, localClass, key, localGroup);
            }
        }
    }

    public ServicePortState State { get; }

    public uint ClusterGroup { get; }

    public uint LocalGroup { get; }

    /// <summary>Every element the port owns, in the maps and sets of <see cref="NftablesLayout"/>.</summary>
    public IReadOnlyList<NftElement> Elements { get; }

    /// <summary>The selection chains its entries go through, with the class of the group each uses there.</summary>
    public IReadOnlyList<(NftSelector Selector, NftClass Class)> Selections { get; }

    /// <summary>The endpoint addresses of its groups: each needs <c>ADDRESS . ADDRESS</c> in the hairpin set.</summary>
    public IReadOnlySet<string> HairpinAddresses { get; }

    /// <summary><c>firewall-HASH-ns/svc/proto/port</c> when the port has loadBalancerSourceRanges and load-balancer IPs.</summary>
    public string? FirewallChain { get; }

    public ImmutableArray<Ipv4Cidr> FirewallRanges { get; } = [];

    /// <summary>Whether the port needs a cluster group (any endpoint) and a local group (a Local policy with local endpoints).</summary>
    public static (bool Cluster, bool Local) GroupsOf(ServicePortState s) =>
        (s.HasEndpoints, (s.InternalPolicyLocal || s.ExternalPolicyLocal) && !s.LocalEndpoints.IsEmpty);
}
