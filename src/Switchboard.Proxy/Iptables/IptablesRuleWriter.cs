using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// Writes the rules of kube-proxy's iptables layout for service ports, line by line into a <see cref="RestoreWriter"/>.
/// Rules read as kube-proxy writes them (pkg/proxy/iptables/proxier.go), so <c>iptables-save</c> output compares
/// with a real node's: KUBE-SVC for the Cluster traffic policy, KUBE-SVL for Local, KUBE-EXT for NodePorts,
/// external IPs and load-balancer IPs, KUBE-FW for loadBalancerSourceRanges, KUBE-SEP per endpoint; REJECT (no
/// endpoints) or DROP (no local endpoints) in filter, and the DROP of load-balancer traffic no KUBE-FW admitted.
/// </summary>
internal sealed class IptablesRuleWriter(IptablesOptions options)
{
    public const string Services = "KUBE-SERVICES";
    public const string ExternalServices = "KUBE-EXTERNAL-SERVICES";
    public const string NodePorts = "KUBE-NODEPORTS";
    public const string PostRouting = "KUBE-POSTROUTING";
    public const string MarkMasq = "KUBE-MARK-MASQ";

    /// <summary>
    /// filter: drops connections to load-balancer IPs that their KUBE-FW chain did not admit. Admitted ones were
    /// DNATed in nat (which comes first), so only the others still carry the load-balancer IP when they get here.
    /// </summary>
    public const string ProxyFirewall = "KUBE-PROXY-FIREWALL";

    /// <summary>An empty chain in mangle, nat and filter whose disappearance says someone flushed the table.</summary>
    public const string Canary = "KUBE-PROXY-CANARY";

    private const string MasqMark = "0x4000";

    /// <summary>How a rule enters a shared chain: appended on a full sync, inserted or deleted on a partial one.</summary>
    public enum Op
    {
        Append,
        Insert,
        Delete,
    }

    public static void DeclareChain(RestoreWriter w, string chain) => w.Append(":").Append(chain).Append(" - [0:0]").EndLine();

    public static void DeleteChain(RestoreWriter w, string chain) => w.Append("-X ").Append(chain).EndLine();

    /// <summary>The rules of the chains that do not depend on services: masquerade marking and SNAT.</summary>
    public static void WriteMasqueradeRules(RestoreWriter w)
    {
        w.AppendRule(MarkMasq).Arg("-j MARK --or-mark").Arg(MasqMark).EndLine();
        w.AppendRule(PostRouting).Arg("-m mark ! --mark").Arg(MasqMark + "/" + MasqMark).Arg("-j RETURN").EndLine();
        w.AppendRule(PostRouting).Arg("-j MARK --xor-mark").Arg(MasqMark).EndLine();
        w.AppendRule(PostRouting).Comment("kubernetes service traffic requiring SNAT").Arg("-j MASQUERADE --random-fully").EndLine();
    }

    /// <summary>KUBE-SERVICES' last rule: anything addressed to the node itself may be a NodePort.</summary>
    public static void WriteNodePortsJump(RestoreWriter w) =>
        w.AppendRule(Services)
            .Comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain")
            .Arg("-m addrtype --dst-type LOCAL -j").Arg(NodePorts).EndLine();

    /// <summary>
    /// The filter rules of a port: its cluster IP REJECTed when it has no endpoints at all (DROPped when only the
    /// Local internal policy leaves it none), and likewise its external IPs, load-balancer IPs and NodePort; with
    /// loadBalancerSourceRanges, the DROP of what its KUBE-FW chain did not admit.
    /// </summary>
    public static void WriteFilterEntries(RestoreWriter w, Op op, ServicePortState s)
    {
        if (UsesFirewallChain(s))
        {
            foreach (string ip in s.LoadBalancerIps)
            {
                Start(w, op, ProxyFirewall).Comment(s.Name, " traffic not accepted by ", s.FirewallChain);
                Destination(w, s, ip).Arg("-j DROP").EndLine();
            }
        }

        // kube-proxy: no endpoints anywhere refuses at once; none under a Local policy drops what was not short-circuited.
        string target = s.HasEndpoints ? "DROP" : "REJECT";
        string comment = s.HasEndpoints ? " has no local endpoints" : " has no endpoints";
        if (!s.HasInternalEndpoints)
        {
            Start(w, op, Services).Comment(s.Name, comment);
            Destination(w, s, s.ClusterIp).Arg("-j").Arg(target).EndLine();
        }

        if (s.HasExternalEndpoints)
        {
            return;
        }

        foreach (string ip in s.ExternalIps)
        {
            Start(w, op, ExternalServices).Comment(s.Name, comment);
            Destination(w, s, ip).Arg("-j").Arg(target).EndLine();
        }

        foreach (string ip in s.LoadBalancerIps)
        {
            Start(w, op, ExternalServices).Comment(s.Name, comment);
            Destination(w, s, ip).Arg("-j").Arg(target).EndLine();
        }

        if (s.NodePort != 0)
        {
            Start(w, op, ExternalServices).Comment(s.Name, comment).Arg("-m addrtype --dst-type LOCAL");
            Protocol(w, s).Arg("--dport").Arg(s.NodePort).Arg("-j").Arg(target).EndLine();
        }
    }

    /// <summary>The nat rules of a port in the shared chains: its cluster IP, external IPs, load-balancer IPs and NodePort.</summary>
    public static void WriteNatEntries(RestoreWriter w, Op op, ServicePortState s)
    {
        if (s.HasInternalEndpoints)
        {
            Start(w, op, Services).Comment(s.Name, " cluster IP");
            Destination(w, s, s.ClusterIp).Arg("-j").Arg(InternalChain(s)).EndLine();
        }

        if (!s.HasEndpoints)
        {
            return;
        }

        foreach (string ip in s.ExternalIps)
        {
            Start(w, op, Services).Comment(s.Name, " external IP");
            Destination(w, s, ip).Arg("-j").Arg(s.ExternalChain).EndLine();
        }

        foreach (string ip in s.LoadBalancerIps)
        {
            Start(w, op, Services).Comment(s.Name, " loadbalancer IP");
            Destination(w, s, ip).Arg("-j").Arg(UsesFirewallChain(s) ? s.FirewallChain : s.ExternalChain).EndLine();
        }

        if (s.NodePort != 0)
        {
            Start(w, op, NodePorts).Arg("-m comment --comment").Arg(s.Name);
            Protocol(w, s).Arg("--dport").Arg(s.NodePort).Arg("-j").Arg(s.ExternalChain).EndLine();
        }
    }

    /// <summary>The chains a port owns in nat: KUBE-SVC, KUBE-SVL, KUBE-EXT, KUBE-FW as it uses them, one KUBE-SEP per reachable endpoint.</summary>
    public static void DeclareChains(RestoreWriter w, ServicePortState s) => ForEachChain(s, w, static (chain, w) => DeclareChain(w, chain));

    /// <summary>Calls <paramref name="action"/> for each chain <see cref="DeclareChains"/> declares.</summary>
    public static void ForEachChain<TState>(ServicePortState s, TState state, Action<string, TState> action)
    {
        if (UsesClusterChain(s))
        {
            action(s.ServiceChain, state);
        }

        if (UsesLocalChain(s))
        {
            action(s.LocalChain, state);
        }

        if (UsesExternalChain(s))
        {
            action(s.ExternalChain, state);
        }

        if (UsesFirewallChain(s))
        {
            action(s.FirewallChain, state);
        }

        ForEachReachableEndpoint(s, (action, state), static (ep, a) => a.action(ep.Chain, a.state));
    }

    /// <summary>The rules of the chains a port owns: masquerading, external-traffic policy, source ranges, load balancing, affinity, hairpin and DNAT.</summary>
    public void WriteChainRules(RestoreWriter w, ServicePortState s)
    {
        if (s.HasInternalEndpoints && options.ClusterCidr is { } clusterCidr)
        {
            // Off-cluster sources reaching a cluster IP are masqueraded, so replies come back through this node.
            w.AppendRule(InternalChain(s)).Comment(s.Name, " cluster IP");
            Destination(w, s, s.ClusterIp).Arg("! -s").Arg(clusterCidr).Arg("-j").Arg(MarkMasq).EndLine();
        }

        if (UsesExternalChain(s))
        {
            WriteExternalChain(w, s);
        }

        if (UsesFirewallChain(s))
        {
            WriteFirewallChain(w, s);
        }

        if (UsesClusterChain(s))
        {
            WriteEndpointJumps(w, s, s.ServiceChain, s.Endpoints);
        }

        if (UsesLocalChain(s))
        {
            WriteEndpointJumps(w, s, s.LocalChain, s.LocalEndpoints);
        }

        ForEachReachableEndpoint(s, (w, s), static (ep, a) =>
        {
            var (w, s) = a;
            // Hairpin: a pod reaching itself through the service must be masqueraded, or it would answer itself directly.
            w.AppendRule(ep.Chain).Arg("-m comment --comment").Arg(s.Name).Arg("-s").Arg(ep.Ip).Arg("-j").Arg(MarkMasq).EndLine();
            w.AppendRule(ep.Chain).Arg("-m comment --comment").Arg(s.Name);
            if (s.AffinitySeconds > 0)
            {
                w.Arg("-m recent --name").Arg(ep.Chain).Arg("--set");
            }

            Protocol(w, s).Arg("-j DNAT --to-destination").Arg(ep.Address).EndLine();
        });
    }

    private void WriteExternalChain(RestoreWriter w, ServicePortState s)
    {
        if (!s.ExternalPolicyLocal)
        {
            // Cluster policy may send the packet to another node: masquerade it so the reply comes back here.
            w.AppendRule(s.ExternalChain).Comment("masquerade traffic for ", s.Name, " external destinations").Arg("-j").Arg(MarkMasq).EndLine();
        }
        else
        {
            // Local policy keeps the client's address. Pods and the node itself reaching an external IP are
            // short-circuited to the Cluster chain, as if they had gone out to the load balancer and back.
            if (options.ClusterCidr is { } clusterCidr)
            {
                w.AppendRule(s.ExternalChain).Comment("pod traffic for ", s.Name, " external destinations")
                    .Arg("-s").Arg(clusterCidr).Arg("-j").Arg(s.ServiceChain).EndLine();
            }

            w.AppendRule(s.ExternalChain).Comment("masquerade LOCAL traffic for ", s.Name, " external destinations")
                .Arg("-m addrtype --src-type LOCAL -j").Arg(MarkMasq).EndLine();
            w.AppendRule(s.ExternalChain).Comment("route LOCAL traffic for ", s.Name, " external destinations")
                .Arg("-m addrtype --src-type LOCAL -j").Arg(s.ServiceChain).EndLine();
        }

        if (s.HasExternalEndpoints)
        {
            w.AppendRule(s.ExternalChain).Arg("-j").Arg(s.ExternalPolicyLocal ? s.LocalChain : s.ServiceChain).EndLine();
        }
    }

    // The admitted sources go on to the external chain; the rest leave the chain un-DNATed, which KUBE-PROXY-FIREWALL
    // drops. (kube-proxy also admits the load-balancer IPs as sources when a range holds the node's IP, for VIPs
    // bound on the node; the proxy is not told the node's IP, as in nftables mode.)
    private static void WriteFirewallChain(RestoreWriter w, ServicePortState s)
    {
        foreach (string range in s.LoadBalancerSourceRanges)
        {
            w.AppendRule(s.FirewallChain).Comment(s.Name, " loadbalancer IP").Arg("-s").Arg(range).Arg("-j").Arg(s.ExternalChain).EndLine();
        }

        w.AppendRule(s.FirewallChain).Comment("other traffic to ", s.Name, " will be dropped by " + ProxyFirewall).EndLine();
    }

    private static void WriteEndpointJumps(RestoreWriter w, ServicePortState s, string chain, System.Collections.Immutable.ImmutableArray<ProxyEndpoint> endpoints)
    {
        if (s.AffinitySeconds > 0)
        {
            foreach (var ep in endpoints)
            {
                w.AppendRule(chain).Comment(s.Name, " -> ", ep.Address)
                    .Arg("-m recent --name").Arg(ep.Chain).Arg("--rcheck --seconds").Arg(s.AffinitySeconds).Arg("--reap -j").Arg(ep.Chain).EndLine();
            }
        }

        // Rule i matches with probability 1/(n-i) of what reaches it, so every endpoint gets 1/n; the last always matches.
        for (int i = 0; i < endpoints.Length; i++)
        {
            w.AppendRule(chain).Comment(s.Name, " -> ", endpoints[i].Address);
            if (i < endpoints.Length - 1)
            {
                w.Arg("-m statistic --mode random --probability").Probability(1.0 / (endpoints.Length - i));
            }

            w.Arg("-j").Arg(endpoints[i].Chain).EndLine();
        }
    }

    // kube-proxy's UsesClusterEndpoints: the Cluster internal policy, or any external access (Local external policy
    // still short-circuits pod and node traffic to the Cluster chain).
    private static bool UsesClusterChain(ServicePortState s) => s.HasEndpoints && (!s.InternalPolicyLocal || s.ExternallyAccessible);

    private static bool UsesLocalChain(ServicePortState s) => !s.LocalEndpoints.IsEmpty && (s.InternalPolicyLocal || s.ExternalPolicyLocal);

    private static bool UsesExternalChain(ServicePortState s) => s.HasEndpoints && s.ExternallyAccessible;

    private static bool UsesFirewallChain(ServicePortState s) => s.HasEndpoints && !s.LoadBalancerIps.IsEmpty && !s.LoadBalancerSourceRanges.IsEmpty;

    private static string InternalChain(ServicePortState s) => s.InternalPolicyLocal ? s.LocalChain : s.ServiceChain;

    // The endpoints some chain of the port jumps to: the Cluster ones, then the Local ones not among them.
    private static void ForEachReachableEndpoint<TState>(ServicePortState s, TState state, Action<ProxyEndpoint, TState> action)
    {
        bool cluster = UsesClusterChain(s);
        if (cluster)
        {
            foreach (var ep in s.Endpoints)
            {
                action(ep, state);
            }
        }

        if (UsesLocalChain(s))
        {
            foreach (var ep in s.LocalEndpoints)
            {
                if (!cluster || !s.Endpoints.Contains(ep))
                {
                    action(ep, state);
                }
            }
        }
    }

    private static RestoreWriter Start(RestoreWriter w, Op op, string chain) => op switch
    {
        Op.Append => w.AppendRule(chain),
        Op.Delete => w.Append("-D ").Append(chain),
        // New rules go first so that KUBE-SERVICES' NodePort jump stays last without rewriting the chain.
        _ => w.InsertRule(chain),
    };

    private static RestoreWriter Protocol(RestoreWriter w, ServicePortState s) => w.Arg("-m").Arg(s.Protocol).Arg("-p").Arg(s.Protocol);

    private static RestoreWriter Destination(RestoreWriter w, ServicePortState s, string ip) =>
        Protocol(w, s).Arg("-d").Arg(ip).Arg("--dport").Arg(s.Port);
}
