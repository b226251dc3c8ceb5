using System.Net;
using Switchboard.Kube.Networking;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Network;

/// <summary>
/// The node's data plane, all inside namespaces the node creates (the host's namespace is touched only by a node on a
/// real machine, <see cref="HostGateway"/>, as it says at start): the node
/// namespace with a bridge holding the pod CIDR's gateway, forwarding and bridge netfilter on, and a route for the
/// service CIDR; per pod a namespace with a veth on the bridge, its address and a default route via the gateway.
/// </summary>
internal sealed class NodeNetwork
{
    private readonly string _ip;

    // Routes to other nodes' pod CIDRs carry this protocol number, so a sync finds its own and no one else's.
    private const string RouteProtocol = "243";

    // A node on a real machine: the node namespace's default route goes through this address on its uplink, which
    // the host's end answers ARP for by proxy_arp (as Calico's 169.254.1.1): no address spent, none of the host's used.
    private const string HostHop = "169.254.1.1";

    public NodeNetwork(NetworkNames names, PodCidr cidr, string serviceCidr, NodeUnderlay? underlay = null, bool hostGateway = false)
    {
        _ip = HostTools.Require("ip");
        Names = names;
        Cidr = cidr;
        ServiceCidr = serviceCidr;
        Underlay = underlay;
        HostGateway = hostGateway;
    }

    /// <summary>The underlay the node namespace joins (<c>up --nodes N</c>); null: a node alone.</summary>
    public NodeUnderlay? Underlay { get; }

    /// <summary>Whether the node is a machine of its own, whose underlay is the namespace the agent runs in (<see cref="JoinHostAsync"/>).</summary>
    public bool HostGateway { get; }

    /// <summary>The far end of the node namespace's uplink <see cref="NodeUnderlay.Link"/>: on the underlay's bridge, or in the host's namespace.</summary>
    public string UplinkPeer => "u" + NetworkNames.Veth(Names.NodeNamespace)["veth".Length..];

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
        string peer = UplinkPeer;
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
    /// Connects the node namespace to the namespace this process runs in, a real machine's: a veth (<see
    /// cref="NodeUnderlay.Link"/> there, <see cref="UplinkPeer"/> here, proxy_arp on), the node namespace's default route
    /// through it, the pod CIDR routed into it, and forwarding on. Refused, before any change, when a route of the host
    /// overlaps the pod CIDR. Kept as it is when an earlier start made it.
    /// </summary>
    public async Task JoinHostAsync(CancellationToken cancellationToken)
    {
        await CheckHostConflictsAsync([Cidr.Text], cancellationToken);
        string ns = Names.NodeNamespace;
        string peer = UplinkPeer;
        if ((await CommandRunner.RunAsync(_ip, ["-n", ns, "link", "show", NodeUnderlay.Link], cancellationToken: cancellationToken)).ExitCode != 0)
        {
            // A host end left by a node namespace deleted meanwhile goes first.
            await CommandRunner.RunAsync(_ip, ["link", "del", peer], cancellationToken: cancellationToken);
            await BatchAsync(null, [$"link add {peer} type veth peer name {NodeUnderlay.Link} netns {ns}"], cancellationToken);
        }

        await File.WriteAllTextAsync($"/proc/sys/net/ipv4/conf/{peer}/proxy_arp", "1", cancellationToken);
        await File.WriteAllTextAsync("/proc/sys/net/ipv4/ip_forward", "1", cancellationToken);
        await BatchAsync(ns, [$"link set {NodeUnderlay.Link} up", $"route replace default via {HostHop} dev {NodeUnderlay.Link} onlink"], cancellationToken);
        await BatchAsync(null, [$"link set {peer} up", $"route replace {Cidr.Text} via {Cidr.Gateway} dev {peer} onlink"], cancellationToken);
    }

    /// <summary>
    /// Refuses (<see cref="InvalidOperationException"/>) when a route of the host's namespace that is not this node's
    /// overlaps one of <paramref name="cidrs"/>: routing a pod CIDR there would take traffic from it, or lose ours to it.
    /// The default route overlaps everything and is left out.
    /// </summary>
    private async Task CheckHostConflictsAsync(IEnumerable<string> cidrs, CancellationToken cancellationToken)
    {
        string[] typeWords = ["unicast", "unreachable", "blackhole", "prohibit", "throw"];
        var existing = new List<(Ipv4Cidr Range, string Line)>();
        foreach (string line in (await CheckIpAsync(["-4", "route", "show", "table", "main"], cancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string destination = typeWords.Contains(fields[0]) && fields.Length > 1 ? fields[1] : fields[0];
            bool ours = line.Contains($" proto {RouteProtocol}", StringComparison.Ordinal) || line.Contains($" dev {UplinkPeer}", StringComparison.Ordinal);
            if (!ours && destination != "default" && Ipv4Cidr.TryParse(destination.Contains('/') ? destination : destination + "/32", out var range))
            {
                existing.Add((range, line.Trim()));
            }
        }

        foreach (var cidr in cidrs.Select(Ipv4Cidr.Parse))
        {
            if (existing.FirstOrDefault(e => e.Range.Contains(cidr.Network) || cidr.Contains(e.Range.Network)) is { Line: { } conflict })
            {
                throw new InvalidOperationException($"pod CIDR {cidr} would be routed over the host's route '{conflict}', which overlaps it: "
                    + "remove that route, or run the cluster on a pod range clear of the host's networks");
            }
        }
    }

    /// <summary>
    /// host-gw: makes the routes to other nodes' pod CIDRs exactly <paramref name="wanted"/> (CIDR → the node address
    /// it goes through), as flannel's host-gw backend programs them; routes of nodes gone are removed. They go into the
    /// node namespace on an underlay, into the host's namespace for a <see cref="HostGateway"/> node (after the check
    /// that no route of the host's overlaps them). Returns the changes made, as <c>ip route</c> commands.
    /// </summary>
    public async Task<IReadOnlyList<string>> SyncRoutesAsync(IReadOnlyDictionary<string, IPAddress> wanted, CancellationToken cancellationToken)
    {
        string? ns = HostGateway ? null : Names.NodeNamespace;
        string listed = await CheckIpAsync([.. NamespaceArgs(ns), "route", "show", "proto", RouteProtocol], cancellationToken);
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
            if (HostGateway)
            {
                await CheckHostConflictsAsync(wanted.Keys, cancellationToken);
            }

            await BatchAsync(ns, batch, cancellationToken);
        }

        return batch;
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

    public async Task<HashSet<string>> ListNamespacesAsync(CancellationToken cancellationToken)
    {
        string output = await CheckIpAsync(["netns", "list"], cancellationToken);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0])];
    }

    private Task<string> CheckIpAsync(string[] args, CancellationToken cancellationToken) => CommandRunner.CheckAsync(_ip, args, cancellationToken: cancellationToken);

    /// <summary>Runs <paramref name="commands"/> in namespace <paramref name="ns"/>; null: in this process's own (a real machine's host namespace).</summary>
    private Task<string> BatchAsync(string? ns, IEnumerable<string> commands, CancellationToken cancellationToken) =>
        CommandRunner.CheckAsync(_ip, [.. NamespaceArgs(ns), "-batch", "-"], string.Join('\n', commands) + "\n", cancellationToken);

    private static string[] NamespaceArgs(string? ns) => ns is null ? [] : ["-n", ns];
}
