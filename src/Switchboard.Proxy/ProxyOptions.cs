using System.Net;

namespace Switchboard.Proxy;

/// <summary>What the service proxy programs and how often (kube-proxy's flags of the same meaning).</summary>
public sealed record ProxyOptions
{
    /// <summary>The node's network namespace, where the rules are written; never the host's own.</summary>
    public required string NodeNamespace { get; init; }

    /// <summary>The node this proxy runs on (<c>--hostname-override</c>): its endpoints are the local ones of the Local traffic policies.</summary>
    public string? NodeName { get; init; }

    /// <summary>How service IPs are programmed (<c>--proxy-mode</c>).</summary>
    public ProxyMode Mode { get; init; } = ProxyMode.Iptables;

    /// <summary>The cluster's pod CIDR: traffic to a ClusterIP from outside it is masqueraded (kube-proxy's <c>--cluster-cidr</c>).</summary>
    public string? ClusterCidr { get; init; } = "10.244.0.0/16";

    /// <summary>The shortest time between two syncs, so a burst of changes is written at once (<c>--iptables-min-sync-period</c>).</summary>
    public TimeSpan MinSyncPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a sync runs with no change seen (<c>--iptables-sync-period</c>).</summary>
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the node namespace is looked for before the first sync (the node agent creates it): a file's existence,
    /// cheap to ask often, and the first sync (readiness) waits for it.
    /// </summary>
    public TimeSpan NamespacePoll { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Connection events kept for <c>switchboard trace</c> (<c>--proxy-trace-buffer</c>); 0 records none.</summary>
    public int TraceBuffer { get; init; } = Trace.ConnectionTrace.DefaultCapacity;

    /// <summary>
    /// Where the proxy serves <c>/metrics</c>, <c>/healthz</c> and <c>/trace</c> itself (in <c>up</c>, whose processes
    /// have no metrics endpoint of their own); null when the host serves them (<c>switchboard proxy</c>'s --metrics-address).
    /// </summary>
    public IPEndPoint? OperationsEndPoint { get; init; }

    /// <summary>
    /// The port of the operations endpoint that serves <c>/trace</c>, written on the proxy's Node as
    /// <see cref="Trace.ProxyTraceAnnotation.Key"/> so <c>switchboard trace</c> reaches it as <c>nodes/NODE:PORT/proxy/trace</c>.
    /// </summary>
    public int? TracePort { get; init; }
}
