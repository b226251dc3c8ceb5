using System.Net;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Network;

/// <summary>
/// The node's data plane, all inside namespaces the node creates (the host's namespace is never touched): the node
/// namespace with a bridge holding the pod CIDR's gateway, forwarding and bridge netfilter on, and a route for the
/// service CIDR; per pod a namespace with a veth on the bridge, its address and a default route via the gateway.
/// </summary>
internal sealed class NodeNetwork
{
    private readonly string _ip;

    // Routes to other nodes' pod CIDRs carry this protocol number, so a sync finds its own and no one else's.
    private const string RouteProtocol = "243";

    public NodeNetwork(NetworkNames names, PodCidr cidr, string serviceCidr, NodeUnderlay? underlay = null)
    {
        _ip = HostTools.Require("ip");
        Names = names;
        Cidr = cidr;
        ServiceCidr = serviceCidr;
        Underlay = underlay;
    }

    /// <summary>The underlay the node namespace joins (<c>up --nodes N</c>); null: a node alone.</summary>
    public NodeUnderlay? Underlay { get; }

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
    /// Connects the node namespace to the underlay's bridge: a veth (<see cref="NodeUnderlay.Link"/> here, its peer on
    /// the bridge) with the node's underlay address; one there from an earlier start is kept.
    /// </summary>
    public async Task JoinUnderlayAsync(NodeUnderlay underlay, CancellationToken cancellationToken)
    {
        string ns = Names.NodeNamespace;
        string peer = "u" + NetworkNames.Veth(ns)["veth".Length..];
        if ((await CommandRunner.RunAsync(_ip, ["-n", ns, "link", "show", NodeUnderlay.Link], cancellationToken: cancellationToken)).ExitCode != 0)
        {
            // A peer left in the underlay by a node namespace deleted meanwhile goes first.
            await CommandRunner.RunAsync(_ip, ["-n", underlay.Namespace, "link", "del", peer], cancellationToken: cancellationToken);
            await BatchAsync(ns, [$"link add {NodeUnderlay.Link} type veth peer name {peer} netns {underlay.Namespace}"], cancellationToken);
        }

        await BatchAsync(underlay.Namespace, [$"link set {peer} master {NodeUnderlay.Bridge}", $"link set {peer} up"], cancellationToken);
        await BatchAsync(ns, [$"addr replace {underlay.Address} dev {NodeUnderlay.Link}", $"link set {NodeUnderlay.Link} up"], cancellationToken);
    }

    /// <summary>
    /// host-gw: makes the node namespace's routes to other nodes' pod CIDRs exactly <paramref name="wanted"/> (CIDR →
    /// the node address it goes through), as flannel's host-gw backend programs them; routes of nodes gone are removed.
    /// </summary>
    public async Task SyncRoutesAsync(IReadOnlyDictionary<string, IPAddress> wanted, CancellationToken cancellationToken)
    {
        string ns = Names.NodeNamespace;
        string listed = await CheckIpAsync(["-n", ns, "route", "show", "proto", RouteProtocol], cancellationToken);
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string[] fields in listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            int via = Array.IndexOf(fields, "via");
            current[fields[0]] = via > 0 && via + 1 < fields.Length ? fields[via + 1] : "";
        }

        var batch = new List<string>();
        batch.AddRange(current.Keys.Where(cidr => !wanted.ContainsKey(cidr)).Select(cidr => $"route del {cidr} proto {RouteProtocol}"));
        batch.AddRange(wanted.Where(w => !current.TryGetValue(w.Key, out string? via) || via != w.Value.ToString())
            .Select(w => $"route replace {w.Key} via {w.Value} proto {RouteProtocol}"));
        if (batch.Count > 0)
        {
            await BatchAsync(ns, batch, cancellationToken);
        }
    }

    /// <summary>
    /// Connects the calling thread's network namespace, pod <paramref name="uid"/>'s new one (<see cref="Sandbox.SandboxNamespaces"/>
    /// runs this inside it), to the bridge: its veth, <paramref name="address"/> on eth0, its routes.
    /// </summary>
    public void ConnectPodHere(string uid, IPAddress address) => PodLinks.ConnectHere(this, NetworkNames.Veth(uid), address);

    /// <summary>Removes pod <paramref name="uid"/>'s namespace (which takes its veth pair with it); nothing if it is gone.</summary>
    public void TearDownPod(string uid)
    {
        if (PodNamespaceExists(uid))
        {
            Sandbox.SandboxNamespaces.DeleteNetwork(Names.PodNamespace(uid));
        }

        // A veth whose pod side vanished on its own would be gone too; one left by a crash mid-setup is removed here.
        if (File.Exists(NamespacePath(Names.NodeNamespace)))
        {
            PodLinks.DeleteNodeLink(Names.NodeNamespace, NetworkNames.Veth(uid));
        }
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
            TearDownPod(uid);
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

    private Task<string> CheckIpAsync(string[] args, CancellationToken cancellationToken) => CommandRunner.CheckAsync(_ip, args, cancellationToken: cancellationToken);

    private Task<string> BatchAsync(string ns, IEnumerable<string> commands, CancellationToken cancellationToken) =>
        CommandRunner.CheckAsync(_ip, ["-n", ns, "-batch", "-"], string.Join('\n', commands) + "\n", cancellationToken);
}
