using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Switchboard.Node;

/// <summary>What a node agent needs to know: who it is, where it keeps state, and the cluster's network defaults.</summary>
public sealed record NodeOptions
{
    /// <summary>kubelet's containerLogMaxSize default, 10Mi.</summary>
    public const long DefaultContainerLogMaxSize = 10 * 1024 * 1024;

    /// <summary>kubelet's containerLogMaxFiles default.</summary>
    public const int DefaultContainerLogMaxFiles = 5;

    /// <summary>The Node object's name (default: the host's short name).</summary>
    public required string NodeName { get; init; }

    /// <summary>
    /// A short name for the cluster, prefixed to every network namespace the node creates, so two clusters (or two
    /// tests) run side by side on one machine. <see cref="ClusterNames.FromDataDirectory"/> derives one.
    /// </summary>
    public required string ClusterName { get; init; }

    /// <summary>The node's network namespace (<c>sb-CLUSTER-NODE</c>), where its bridge is and the service proxy writes its rules.</summary>
    public string NodeNamespace => new Network.NetworkNames(ClusterName, NodeName).NodeNamespace;

    /// <summary>Where the node keeps its IPAM, pod sandboxes and container logs.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>
    /// Where the node keeps its pods' runtime state (their etc files, root mount points, sandbox and container records,
    /// attach sockets), as containerd keeps its under /run: on a tmpfs (the node mounts one where /run is not), so the
    /// tens of files a pod's start makes and its stop deletes cost no disk inodes (on an ext4 without a journal, as
    /// these machines have, a new inode is found by skipping every one deleted in the last minute or more: 0.2-0.7 ms a
    /// directory under a pod churn). The pods' writable layers, volumes and logs stay on disk, in <see cref="StateDirectory"/>.
    /// </summary>
    public string PodRuntimeDirectory => Path.Combine(RunDirectory, "pods");

    /// <summary>The node's own directory under /run, its owner's alone as the state directory is (container specs name their env, secrets' values included).</summary>
    public string RunDirectory => Path.Combine(RunRoot, NodeNamespace);

    /// <summary>Where every node on this machine has its <see cref="RunDirectory"/>.</summary>
    internal const string RunRoot = "/run/switchboard";

    /// <summary>Where the node's container monitor host keeps its socket, pid, lock and log.</summary>
    public string RuntimeDirectory => Path.Combine(StateDirectory, "runtime");

    /// <summary>How to run this program's hidden subcommand (the container monitor host): the executable and the leading arguments; the echo image's program is found beside it.</summary>
    public required IReadOnlyList<string> SelfCommand { get; init; }

    public IPAddress ClusterDns { get; init; } = IPAddress.Parse("10.96.0.10");

    public string ClusterDomain { get; init; } = "cluster.local";

    public string ServiceCidr { get; init; } = "10.96.0.0/16";

    /// <summary>The cluster's pod range; each node takes a /24 of it.</summary>
    public string ClusterCidr { get; init; } = "10.244.0.0/16";

    /// <summary>Pods synced at once (kubelet has a worker per pod): a sync mostly waits on the processes it starts.</summary>
    public int Workers { get; init; } = 16;

    /// <summary>How often the node's status is computed and the Lease renewed (kubelet: 10 s).</summary>
    public TimeSpan StatusUpdateFrequency { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an unchanged status is written anyway (kubelet: 5 min).</summary>
    public TimeSpan StatusReportFrequency { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where the cgroup hierarchies are mounted: a v2 hierarchy at the root or at <c>unified</c>, or v1 <c>memory</c>, <c>cpu</c>, <c>cpuacct</c>.</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";

    /// <summary>A container's log file is rotated once it reaches this size (kubelet's containerLogMaxSize).</summary>
    public long ContainerLogMaxSize { get; init; } = DefaultContainerLogMaxSize;

    /// <summary>Files kept per container log, the current one included (kubelet's containerLogMaxFiles, at least 2).</summary>
    public int ContainerLogMaxFiles { get; init; } = DefaultContainerLogMaxFiles;

    /// <summary>
    /// The node's own address, reported as its InternalIP and as its pods' hostIP (kubelet's <c>--node-ip</c>); the API
    /// server reaches the node's HTTPS port there. Null: <see cref="ResolveNodeIp"/> chooses one.
    /// </summary>
    public IPAddress? NodeIp { get; init; }

    /// <summary>
    /// The underlay the node's namespace joins, through which it routes other nodes' pod CIDRs (host-gw) and where its
    /// NodePorts answer; null: a node alone, whose namespace reaches no other node.
    /// </summary>
    public NodeUnderlay? Underlay { get; init; }

    /// <summary>
    /// The node is a machine of its own (<c>--host-gw</c>): the network namespace the agent runs in, the host's, is its
    /// underlay. The node namespace hangs off it by a veth, the node's pod CIDR is routed into it there and every other
    /// node's pod CIDR through that node's InternalIP, as flannel's host-gw backend routes on each machine.
    /// </summary>
    public bool HostGateway { get; init; }

    /// <summary>The node's HTTPS port (resource metrics); null: the node serves none.</summary>
    public Server.KubeletServerOptions? Server { get; init; }

    /// <summary>The host file that dnsPolicy Default copies.</summary>
    public string HostResolvConf { get; init; } = "/etc/resolv.conf";

    /// <summary>
    /// <see cref="NodeIp"/> when given; else, as kubelet, the HTTPS server's listen address when it is a specific one;
    /// else, for a <see cref="HostGateway"/> node, the address of the default route's interface (kubelet's choice, and
    /// the one other machines reach it at); else the host's first non-loopback IPv4 address (loopback on a host that has none).
    /// </summary>
    public IPAddress ResolveNodeIp()
    {
        if (NodeIp is { } given)
        {
            return given;
        }

        if (Server?.Address is { } listen && !listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any))
        {
            return listen;
        }

        if (HostGateway)
        {
            return DefaultRouteAddress() ?? throw new InvalidOperationException(
                "this machine has no default route with an IPv4 address on its interface to take as the node's address: give --node-ip");
        }

        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)) ?? IPAddress.Loopback;
    }

    /// <summary>The first IPv4 address of the interface the default route leaves by (<c>/proc/net/route</c>, this process's namespace); null without one.</summary>
    private static IPAddress? DefaultRouteAddress()
    {
        // Iface Destination Gateway Flags …, hexadecimal; the default route's destination and mask are 00000000.
        string? device = File.ReadLines("/proc/net/route").Skip(1)
            .Select(line => line.Split('\t', StringSplitOptions.TrimEntries))
            .FirstOrDefault(f => f.Length > 7 && f[1] == "00000000" && f[7] == "00000000")?[0];
        return device is null ? null : NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.Name == device)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
    }
}
