namespace Switchboard.Proxy;

/// <summary>How service IPs are programmed (kube-proxy's <c>--proxy-mode</c>).</summary>
public enum ProxyMode
{
    /// <summary>kube-proxy's iptables layout, written with iptables-restore: the default, and what the seed shows.</summary>
    Iptables,

    /// <summary>kube-proxy's nftables layout (table <c>ip kube-proxy</c>), written as nf_tables netlink transactions.</summary>
    Nftables,

    /// <summary>An in-process TCP and UDP proxy on each cluster IP, for nodes where neither iptables nor nft can be used.</summary>
    Userspace,
}
