using System.Net;

namespace Switchboard.Dns.InCluster;

/// <summary>
/// Serving pods as a real cluster's DNS does: behind the <c>kube-dns</c> Service's ClusterIP, through the node's
/// service proxy. The server listens inside the node's network namespace, and the Service's endpoint is the node's
/// gateway address on the pod bridge.
/// </summary>
public sealed record InClusterDnsOptions
{
    /// <summary>The network namespace pods' traffic reaches the node in; the node agent makes it.</summary>
    public required string NodeNamespace { get; init; }

    /// <summary>The node whose pod CIDR's gateway address is the endpoint.</summary>
    public required string NodeName { get; init; }

    /// <summary>kube-dns's ClusterIP: the tenth address of the default service range, as kubeadm picks it.</summary>
    public IPAddress ServiceIp { get; init; } = IPAddress.Parse("10.96.0.10");

    /// <summary>
    /// How often the node namespace and the node's pod CIDR are looked for while they do not exist yet. The node
    /// registers before it makes the namespace, so in <c>up</c> only the namespace (a file) is polled, and DNS's
    /// readiness waits for it.
    /// </summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(10);
}
