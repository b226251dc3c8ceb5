using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// Writes the rules of kube-proxy's iptables layout for service ports, line by line into a <see cref="RestoreWriter"/>.
/// Rules read as kube-proxy writes them, so <c>iptables-save</c> output compares with a real node's.
/// </summary>
internal sealed class IptablesRuleWriter(IptablesOptions options)
{
    public const string Services = "KUBE-SERVICES";
    public const string ExternalServices = "KUBE-EXTERNAL-SERVICES";
    public const string NodePorts = "KUBE-NODEPORTS";
    public const string PostRouting = "KUBE-POSTROUTING";
    public const string MarkMasq = "KUBE-MARK-MASQ";

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
        w.Append("-A ").Append(MarkMasq).Arg("-j MARK --or-mark").Arg(MasqMark).EndLine();
        w.Append("-A ").Append(PostRouting).Arg("-m mark ! --mark").Arg(MasqMark + "/" + MasqMark).Arg("-j RETURN").EndLine();
        w.Append("-A ").Append(PostRouting).Arg("-j MARK --xor-mark").Arg(MasqMark).EndLine();
        w.Append("-A ").Append(PostRouting).Comment("kubernetes service traffic requiring SNAT", "").Arg("-j MASQUERADE --random-fully").EndLine();
    }

    /// <summary>KUBE-SERVICES' last rule: anything addressed to the node itself may be a NodePort.</summary>
    public static void WriteNodePortsJump(RestoreWriter w) =>
        w.Append("-A ").Append(Services)
            .Comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain", "")
            .Arg("-m addrtype --dst-type LOCAL -j").Arg(NodePorts).EndLine();

    /// <summary>The filter rules of a port: REJECT its cluster IP and NodePort when it has no endpoints.</summary>
    public static void WriteFilterEntries(RestoreWriter w, Op op, ServicePortState s)
    {
        if (s.HasEndpoints)
        {
            return;
        }

        Start(w, op, Services).Comment(s.Name, " has no endpoints");
        Destination(w, s).Arg("-j REJECT").EndLine();
        if (s.NodePort != 0)
        {
            Start(w, op, ExternalServices).Comment(s.Name, " has no endpoints").Arg("-m addrtype --dst-type LOCAL");
            Protocol(w, s).Arg("--dport").Arg(s.NodePort).Arg("-j REJECT").EndLine();
        }
    }

    /// <summary>The nat rules of a port in the shared chains: its cluster IP and its NodePort.</summary>
    public static void WriteNatEntries(RestoreWriter w, Op op, ServicePortState s)
    {
        if (!s.HasEndpoints)
        {
            return;
        }

        Start(w, op, Services).Comment(s.Name, " cluster IP");
        Destination(w, s).Arg("-j").Arg(s.ServiceChain).EndLine();
        if (s.NodePort != 0)
        {
            Start(w, op, NodePorts).Arg("-m comment --comment").Arg(s.Name);
            Protocol(w, s).Arg("--dport").Arg(s.NodePort).Arg("-j").Arg(s.ExternalChain).EndLine();
        }
    }

    /// <summary>The chains a port owns in nat: KUBE-SVC, KUBE-EXT with a NodePort, one KUBE-SEP per endpoint.</summary>
    public static void DeclareChains(RestoreWriter w, ServicePortState s) => ForEachChain(s, w, static (chain, w) => DeclareChain(w, chain));

    /// <summary>Calls <paramref name="action"/> for each chain <see cref="DeclareChains"/> declares.</summary>
    public static void ForEachChain<TState>(ServicePortState s, TState state, Action<string, TState> action)
    {
        if (!s.HasEndpoints)
        {
            return;
        }

        action(s.ServiceChain, state);
        if (s.NodePort != 0)
        {
            action(s.ExternalChain, state);
        }

        foreach (var ep in s.Endpoints)
        {
            action(ep.Chain, state);
        }
    }

    /// <summary>The rules of the chains a port owns: load balancing, affinity, hairpin masquerade and DNAT.</summary>
    public void WriteChainRules(RestoreWriter w, ServicePortState s)
    {
        if (!s.HasEndpoints)
        {
            return;
        }

        if (s.NodePort != 0)
        {
            w.Append("-A ").Append(s.ExternalChain).Comment("masquerade traffic for ", s.Name, " external destinations");
            w.Arg("-j").Arg(MarkMasq).EndLine();
            w.Append("-A ").Append(s.ExternalChain).Arg("-j").Arg(s.ServiceChain).EndLine();
        }

        if (options.ClusterCidr is { } clusterCidr)
        {
            w.Append("-A ").Append(s.ServiceChain).Comment(s.Name, " cluster IP");
            Destination(w, s).Arg("! -s").Arg(clusterCidr).Arg("-j").Arg(MarkMasq).EndLine();
        }

        var endpoints = s.Endpoints;
        if (s.AffinitySeconds > 0)
        {
            foreach (var ep in endpoints)
            {
                EndpointJump(w, s, ep).Arg("-m recent --name").Arg(ep.Chain).Arg("--rcheck --seconds").Arg(s.AffinitySeconds).Arg("--reap -j").Arg(ep.Chain).EndLine();
            }
        }

        // Rule i matches with probability 1/(n-i) of what reaches it, so every endpoint gets 1/n; the last always matches.
        for (int i = 0; i < endpoints.Length; i++)
        {
            EndpointJump(w, s, endpoints[i]);
            if (i < endpoints.Length - 1)
            {
                w.Arg("-m statistic --mode random --probability").Probability(1.0 / (endpoints.Length - i));
            }

            w.Arg("-j").Arg(endpoints[i].Chain).EndLine();
        }

        foreach (var ep in endpoints)
        {
            // Hairpin: a pod reaching itself through the service must be masqueraded, or it would answer itself directly.
            w.Append("-A ").Append(ep.Chain).Arg("-m comment --comment").Arg(s.Name).Arg("-s").Arg(ep.Ip).Arg("-j").Arg(MarkMasq).EndLine();
            w.Append("-A ").Append(ep.Chain).Arg("-m comment --comment").Arg(s.Name);
            if (s.AffinitySeconds > 0)
            {
                w.Arg("-m recent --name").Arg(ep.Chain).Arg("--set");
            }

            Protocol(w, s).Arg("-j DNAT --to-destination").Arg(ep.Address).EndLine();
        }
    }

    private static RestoreWriter EndpointJump(RestoreWriter w, ServicePortState s, ProxyEndpoint ep) =>
        w.Append("-A ").Append(s.ServiceChain).Comment(s.Name, " -> ", ep.Address);

    private static RestoreWriter Start(RestoreWriter w, Op op, string chain) => op switch
    {
        Op.Append => w.Append("-A ").Append(chain),
        Op.Delete => w.Append("-D ").Append(chain),
        // New rules go first so that KUBE-SERVICES' NodePort jump stays last without rewriting the chain.
        _ => w.Append("-I ").Append(chain).Append(" 1"),
    };

    private static RestoreWriter Protocol(RestoreWriter w, ServicePortState s) => w.Arg("-m").Arg(s.Protocol).Arg("-p").Arg(s.Protocol);

    private static RestoreWriter Destination(RestoreWriter w, ServicePortState s) =>
        Protocol(w, s).Arg("-d").Arg(s.ClusterIp).Arg("--dport").Arg(s.Port);
}
