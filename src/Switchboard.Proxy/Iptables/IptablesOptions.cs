namespace Switchboard.Proxy.Iptables;

/// <summary>How the iptables rules are written for this node.</summary>
internal sealed record IptablesOptions
{
    /// <summary>
    /// The cluster's pod CIDR. Traffic to a cluster IP from outside it is masqueraded (kube-proxy's local detector),
    /// so replies come back through this node; null writes no such rule.
    /// </summary>
    public string? ClusterCidr { get; init; }

    /// <summary>How often the canary chains are looked for between full syncs (kube-proxy: every sync period).</summary>
    public TimeSpan CanaryInterval { get; init; } = TimeSpan.FromSeconds(30);
}
