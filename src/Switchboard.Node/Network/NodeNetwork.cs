using System.Net;
using Switchboard.Node.Runtime;

using Switchboard.Kube.Processes;

namespace Switchboard.Node.Network;

/// <summary>
/// The node's data plane, all inside namespaces the node creates (the host's namespace is never touched): the node
/// namespace with a bridge holding the pod CIDR's gateway, forwarding and bridge netfilter on, and a route for the
/// service CIDR; per pod a namespace with a veth on the bridge, its address and a default route via the gateway.
/// </summary>
internal sealed class NodeNetwork
{
    private readonly string _ip;

    public NodeNetwork(NetworkNames names, PodCidr cidr, string serviceCidr)
    {
        _ip = HostTools.Require("ip");
        Names = names;
        Cidr = cidr;
        ServiceCidr = serviceCidr;
    }

    public NetworkNames Names { get; }

    public PodCidr Cidr { get; }

    public string ServiceCidr { get; }

    /// <summary>Creates the node namespace and its bridge, or brings an existing one to the wanted state.</summary>
    public async Task EnsureNodeAsync(CancellationToken cancellationToken)
    {
        string ns = Names.NodeNamespace;
        bool made = !File.Exists(NamespacePath(ns));
        if (made)
        {
            await CheckIpAsync(["netns", "add", ns], cancellationToken);
        }

        // A namespace made just now has no bridge yet: only one found (a restart) is asked, a process spawn saved on `up`.
        var batch = new List<string> { "link set lo up" };
        if (made || (await CommandRunner.RunAsync(_ip, ["-n", ns, "link", "show", NetworkNames.Bridge], cancellationToken: cancellationToken)).ExitCode != 0)
        {
            batch.Add($"link add {NetworkNames.Bridge} type bridge");
        }

        batch.Add($"addr replace {Cidr.Gateway}/{Cidr.PrefixLength} dev {NetworkNames.Bridge}");
        batch.Add($"link set {NetworkNames.Bridge} up");
        batch.Add($"route replace {ServiceCidr} dev {NetworkNames.Bridge} src {Cidr.Gateway}");
        await BatchAsync(ns, batch, cancellationToken);

        // Forwarding and bridge netfilter are per namespace here (br_netfilter is built in): pod → ClusterIP → the
        // same pod needs both, and hairpin on each port. The service CIDR is routed out of the bridge it came in on,
        // so no ICMP redirects: they would use up the ICMP rate limit that a REJECT's reply needs.
        await CheckIpAsync(["netns", "exec", ns, "sh", "-c",
            "echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables"
            + $" && echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects && echo 0 > /proc/sys/net/ipv4/conf/{NetworkNames.Bridge}/send_redirects"], cancellationToken);
    }

    /// <summary>
    /// Creates pod <paramref name="uid"/>'s network namespace, not yet connected: processes may enter it while
    /// <see cref="ConnectPodAsync"/> wires it (what an earlier one left is removed first: <see cref="TearDownPodAsync"/>).
    /// </summary>
    public Task AddPodNamespaceAsync(string uid, CancellationToken cancellationToken) => CheckIpAsync(["netns", "add", Names.PodNamespace(uid)], cancellationToken);

    /// <summary>Connects pod <paramref name="uid"/>'s namespace to the bridge: its veth, <paramref name="address"/> on eth0, its routes.</summary>
    public async Task ConnectPodAsync(string uid, IPAddress address, CancellationToken cancellationToken)
    {
        string podNs = Names.PodNamespace(uid);
        string veth = NetworkNames.Veth(uid);
        string[] bridgePort =
        [
            $"link add {veth} type veth peer name eth0 netns {podNs}",
            $"link set {veth} master {NetworkNames.Bridge}",
            $"link set {veth} type bridge_slave hairpin on",
            $"link set {veth} up",
        ];
        try
        {
            await BatchAsync(Names.NodeNamespace, bridgePort, cancellationToken);
        }
        catch (CommandFailedException)
        {
            // A veth of an earlier namespace that a stray process kept alive: remove it and try once more.
            await DeleteVethAsync(uid, cancellationToken);
            await BatchAsync(Names.NodeNamespace, bridgePort, cancellationToken);
        }

        await BatchAsync(podNs,
        [
            "link set lo up",
            $"addr add {address}/{Cidr.PrefixLength} dev eth0",
            "link set eth0 up",
            $"route add default via {Cidr.Gateway}",
            $"route add {ServiceCidr} via {Cidr.Gateway}",
        ], cancellationToken);
    }

    /// <summary>Removes pod <paramref name="uid"/>'s namespace (which takes its veth pair with it); nothing if it is gone.</summary>
    public async Task TearDownPodAsync(string uid, CancellationToken cancellationToken)
    {
        if (PodNamespaceExists(uid))
        {
            await CheckIpAsync(["netns", "del", Names.PodNamespace(uid)], cancellationToken);
        }

        // A veth whose pod side vanished on its own would be gone too; one left by a crash mid-setup is removed here.
        await DeleteVethAsync(uid, cancellationToken);
    }

    /// <summary>Whether pod <paramref name="uid"/>'s namespace exists: its file where <c>ip netns</c> keeps them (no process to ask).</summary>
    public bool PodNamespaceExists(string uid) => File.Exists(NamespacePath(Names.PodNamespace(uid)));

    /// <summary>The file that pins network namespace <paramref name="name"/>, as <c>ip netns add</c> makes it.</summary>
    public static string NamespacePath(string name) => Path.Combine("/run/netns", name);

    /// <summary>The pod uids that have a namespace on this node.</summary>
    public async Task<IReadOnlyList<string>> ListPodUidsAsync(CancellationToken cancellationToken) =>
        [.. (await ListNamespacesAsync(cancellationToken))
            .Where(n => n.StartsWith(Names.PodNamespacePrefix, StringComparison.Ordinal))
            .Select(n => n[Names.PodNamespacePrefix.Length..])];

    /// <summary>Removes the node namespace (pods first).</summary>
    public async Task DeleteNodeAsync(CancellationToken cancellationToken)
    {
        foreach (string uid in await ListPodUidsAsync(cancellationToken))
        {
            await TearDownPodAsync(uid, cancellationToken);
        }

        if ((await ListNamespacesAsync(cancellationToken)).Contains(Names.NodeNamespace))
        {
            await CheckIpAsync(["netns", "del", Names.NodeNamespace], cancellationToken);
        }
    }

    public async Task<HashSet<string>> ListNamespacesAsync(CancellationToken cancellationToken)
    {
        string output = await CheckIpAsync(["netns", "list"], cancellationToken);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0])];
    }

    private Task<ToolResult> DeleteVethAsync(string uid, CancellationToken cancellationToken) =>
        CommandRunner.RunAsync(_ip, ["-n", Names.NodeNamespace, "link", "del", NetworkNames.Veth(uid)], cancellationToken: cancellationToken);

    private Task<string> CheckIpAsync(string[] args, CancellationToken cancellationToken) => CommandRunner.CheckAsync(_ip, args, cancellationToken: cancellationToken);

    private Task<string> BatchAsync(string ns, IEnumerable<string> commands, CancellationToken cancellationToken) =>
        CommandRunner.CheckAsync(_ip, ["-n", ns, "-batch", "-"], string.Join('\n', commands) + "\n", cancellationToken);
}
