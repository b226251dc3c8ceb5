namespace Switchboard.Controllers;

/// <summary>What the controller manager runs and how.</summary>
public sealed record ControllerOptions
{
    /// <summary>Concurrent workers per controller (the scheduler always works one pod at a time).</summary>
    public int Workers { get; init; } = 4;

    /// <summary>Whether to bind unscheduled pods to nodes (off when another scheduler does it).</summary>
    public bool EnableScheduler { get; init; } = true;

    /// <summary>How often every object is reconciled again even without a change.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The most endpoints one EndpointSlice holds (upstream's --max-endpoints-per-slice).</summary>
    public int MaxEndpointsPerSlice { get; init; } = 100;

    /// <summary>How often the garbage collector looks again at an owner of a kind it has no informer for.</summary>
    public TimeSpan UnwatchedOwnerRecheck { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock; the system clock unless a test drives it.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// The cluster's pod range, from which each Node without spec.podCIDR gets one (kube-controller-manager's
    /// <c>--cluster-cidr</c> with <c>--allocate-node-cidrs</c>); null: nodes bring their own.
    /// </summary>
    public string? ClusterCidr { get; init; } = "10.244.0.0/16";

    /// <summary>The prefix length of each node's pod range (<c>--node-cidr-mask-size</c>, 24).</summary>
    public int NodeCidrMaskSize { get; init; } = 24;

    /// <summary>How long a node may go without renewing its Lease before it is Ready=Unknown (<c>--node-monitor-grace-period</c>, 40 s).</summary>
    public TimeSpan NodeMonitorGracePeriod { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>How often each node's health is looked at (<c>--node-monitor-period</c>, 5 s).</summary>
    public TimeSpan NodeMonitorPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The PEM file of the CA that pods trust the API server by (kube-controller-manager's <c>--root-ca-file</c>), published
    /// as <c>kube-root-ca.crt</c> in every namespace; read when the controllers start. Null: no publisher.
    /// </summary>
    public string? RootCaFile { get; init; }
}
