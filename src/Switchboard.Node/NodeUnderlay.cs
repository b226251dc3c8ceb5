using System.Net;
using k8s.Models;
using Switchboard.Kube.Networking;
using Switchboard.Node.Network;
using Switchboard.Node.Runtime;

namespace Switchboard.Node;

/// <summary>
/// The network joining the "machines" of one cluster on one host (<c>up --nodes N</c>): a bridge in a namespace of
/// the cluster's own, <c>sb-&lt;cluster&gt;-underlay</c>, where each node namespace has a veth with its address. Each
/// cluster's underlay lives in its own namespace, so two clusters side by side use the same range without a clash,
/// and the host's namespace is never touched. Nodes route each other's pod CIDRs through these addresses (host-gw),
/// found in each Node's <see cref="PublicIpAnnotation"/> (flannel's public-ip), else its InternalIP.
/// </summary>
/// <param name="Namespace">The underlay namespace, made by <see cref="EnsureAsync"/>.</param>
/// <param name="Address">The node's address on it, with the underlay's prefix length (<c>10.243.0.2/24</c>).</param>
public sealed record NodeUnderlay(string Namespace, string Address)
{
    /// <summary>The Node annotation naming the address other nodes route its pods through, as flannel's public-ip.</summary>
    public const string PublicIpAnnotation = "switchboard.dev/public-ip";

    /// <summary>The underlay's range: private to the cluster's namespace, the same for every cluster.</summary>
    public const string Range = "10.243.0.0/24";

    /// <summary>
    /// The underlay namespace's own address, on its bridge: a machine on the nodes' network outside the cluster, as a
    /// client of NodePorts from the LAN (<c>ip netns exec sb-CLUSTER-underlay curl http://NODE:NODEPORT</c>).
    /// </summary>
    public static IPAddress OutsideAddress { get; } = IPAddress.Parse("10.243.0.254");

    /// <summary>The bridge in the underlay namespace.</summary>
    public const string Bridge = "sbu0";

    /// <summary>The node namespace's end of its veth to the underlay.</summary>
    public const string Link = "ul0";

    /// <summary>The address alone.</summary>
    public IPAddress Ip => IPAddress.Parse(Address.Split('/')[0]);

    /// <summary>The address <paramref name="node"/> says other nodes reach it at (<see cref="PublicIpAnnotation"/>); null when it says none.</summary>
    public static string? PublicIpOf(V1Node node) =>
        node?.Metadata?.Annotations is { } annotations && annotations.TryGetValue(PublicIpAnnotation, out string? ip) ? ip : null;

    /// <summary>Cluster <paramref name="cluster"/>'s underlay namespace.</summary>
    public static string NamespaceOf(string cluster) => $"sb-{cluster}-underlay";

    /// <summary>Node <paramref name="index"/> (from 0) of cluster <paramref name="cluster"/> on its underlay.</summary>
    public static NodeUnderlay For(string cluster, int index)
    {
        var range = Ipv4Cidr.Parse(Range);
        if (index < 0 || index + 1 >= range.OffsetOf(OutsideAddress))
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the underlay {Range} holds {range.OffsetOf(OutsideAddress) - 1} nodes");
        }

        return new NodeUnderlay(NamespaceOf(cluster), $"{range.AddressAt(index + 1)}/{range.PrefixLength}");
    }

    /// <summary>Makes cluster <paramref name="cluster"/>'s underlay namespace and its bridge, or keeps the ones there.</summary>
    public static async Task EnsureAsync(string cluster, CancellationToken cancellationToken)
    {
        string ip = HostTools.Require("ip");
        string ns = NamespaceOf(cluster);
        if (!File.Exists(NodeNetwork.NamespacePath(ns)))
        {
            await CommandRunner.CheckAsync(ip, ["netns", "add", ns], cancellationToken: cancellationToken);
        }

        if ((await CommandRunner.RunAsync(ip, ["-n", ns, "link", "show", Bridge], cancellationToken: cancellationToken)).ExitCode != 0)
        {
            await CommandRunner.CheckAsync(ip, ["-n", ns, "link", "add", Bridge, "type", "bridge"], cancellationToken: cancellationToken);
        }

        await CommandRunner.CheckAsync(ip, ["-n", ns, "-batch", "-"], $"link set lo up\naddr replace {OutsideAddress}/{Ipv4Cidr.Parse(Range).PrefixLength} dev {Bridge}\nlink set {Bridge} up\n", cancellationToken);

        // The underlay is the machines' switch: frames cross it unfiltered. Bridge netfilter (on by default in a new
        // namespace) would hand each one to the IPv4 hooks there on its way: 3-4 us of a cross-node connect's ~40
        // (bench/nodes-hops.sh), for nothing.
        await CommandRunner.CheckAsync(ip, ["netns", "exec", ns, "sh", "-c", "echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables"], cancellationToken: cancellationToken);
    }

    /// <summary>Removes cluster <paramref name="cluster"/>'s underlay namespace; nothing if there is none.</summary>
    public static async Task DeleteAsync(string cluster, CancellationToken cancellationToken)
    {
        string ns = NamespaceOf(cluster);
        if (File.Exists(NodeNetwork.NamespacePath(ns)))
        {
            await CommandRunner.RunAsync(HostTools.Require("ip"), ["netns", "del", ns], cancellationToken: cancellationToken);
        }
    }
}
