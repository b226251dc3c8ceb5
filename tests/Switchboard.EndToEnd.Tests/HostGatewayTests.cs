using Switchboard.Node;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// <c>switchboard agent --host-gw</c>, a node on a machine of its own, whose routes go into the namespace it runs in. No
/// test may touch this host's namespace, so each "machine" is a network namespace the test makes, joined to the others
/// by a bridge in a third ("the LAN"), where the control plane runs too. Agents and control plane enter them with
/// <c>nsenter --net</c>, which keeps the host's mount namespace as a real machine's agent has it (<c>ip netns exec</c>
/// would give the agent a mount namespace and a /sys of its own: the namespaces it adds, and the cgroups, would be
/// invisible outside it).
/// </summary>
public sealed class HostGatewayTests : IAsyncLifetime
{
    private const string LanAddress = "10.199.0.254";
    private readonly string _prefix = "sbhg" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..4];
    private readonly TempDirectory _dataDirectory = new("sb-hostgw-");
    private readonly List<RunningProcess> _processes = [];
    private readonly List<string> _machines = [];

    private string Lan => $"{_prefix}-lan";

    private string ControlPlane => _dataDirectory.File("control-plane");

    private string Kubeconfig => Path.Combine(ControlPlane, "kubeconfig");

    public async Task InitializeAsync()
    {
        await IpBatchAsync(null, [$"netns add {Lan}", $"-n {Lan} link set lo up", $"-n {Lan} link add br0 type bridge", $"-n {Lan} addr add {LanAddress}/24 dev br0", $"-n {Lan} link set br0 up"]);
        var up = Start(Lan, "up", "--nodes", "0", "--data-dir", ControlPlane, "--api-address", LanAddress);
        await Eventually.WaitAsync(async () => File.Exists(Kubeconfig) && (await KubectlAsync("get", "--raw", "/readyz")).ExitCode == 0,
            "the control plane to answer /readyz on the LAN", TimeSpan.FromSeconds(90));
        Assert.False(up.HasExited, up.Output);
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes.AsEnumerable().Reverse())
        {
            process.Terminate();
            process.Dispose();
        }

        // Each machine's node: its pods, their namespaces and processes; then the machines and the LAN with the routes in them.
        foreach (string machine in _machines)
        {
            await SwitchboardUp.RunAsync("down", "--data-dir", MachineDirectory(machine));
        }

        await SwitchboardUp.RunAsync("down", "--data-dir", ControlPlane);
        foreach (string ns in _machines.Append(Lan))
        {
            await ChildProcess.RunAsync("ip", ["netns", "del", ns]);
        }

        _dataDirectory.Dispose();
    }

    [Fact]
    public async Task Two_machines_route_each_others_pods_in_their_own_namespace_and_a_ClusterIP_spans_them()
    {
        string m1 = await MachineAsync(1);
        string m2 = await MachineAsync(2);
        var agent1 = StartAgent(m1);
        var agent2 = StartAgent(m2);

        // Each says what it changes in its host's namespace before it changes it.
        string said = await agent1.WaitForLineAsync(l => l.Contains("is a machine of its own", StringComparison.Ordinal), "what it changes in the host's namespace");
        Assert.Contains("net.ipv4.ip_forward=1", said, StringComparison.Ordinal);
        Assert.Contains("its own address there is 10.199.0.1", said, StringComparison.Ordinal);
        await Eventually.WaitAsync(async () => (await KubectlOutputAsync("get", "nodes", "-o", @"jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==""Ready"")].status} {end}"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).SequenceEqual([$"{m1}=True", $"{m2}=True"]), "both machines' nodes Ready", TimeSpan.FromSeconds(90));
        string cidr1 = await KubectlOutputAsync("get", "node", m1, "-o", "jsonpath={.spec.podCIDR}");
        string cidr2 = await KubectlOutputAsync("get", "node", m2, "-o", "jsonpath={.spec.podCIDR}");
        Assert.Equal("10.199.0.1", await KubectlOutputAsync("get", "node", m1, "-o", @"jsonpath={.status.addresses[?(@.type==""InternalIP"")].address}"));

        // host-gw in each machine's own namespace: its pod CIDR into its node namespace, the other's through the other's address.
        foreach (var (machine, own, other, otherAddress) in new[] { (m1, cidr1, cidr2, "10.199.0.2"), (m2, cidr2, cidr1, "10.199.0.1") })
        {
            await Eventually.WaitAsync(async () => (await RoutesAsync(machine, "proto", "243")).Contains($"{other} via {otherAddress} dev eth0", StringComparison.Ordinal),
                $"{machine} routing {other} via {otherAddress}");
            Assert.Matches($@"^{own.Replace(".", @"\.", StringComparison.Ordinal)} via \S+ dev u[0-9a-f]+ onlink", await RoutesAsync(machine, own));
        }

        // A pod on machine 1 reaches a pod on machine 2 by its IP, and through a ClusterIP its own node's proxy sends there.
        await KubectlOutputAsync("run", "web", "--image=switchboard/echo", "--labels=app=web", $"--overrides={{\"spec\":{{\"nodeName\":\"{m2}\"}}}}");
        await KubectlOutputAsync("run", "client", "--image=curlimages/curl", "--restart=Never", $"--overrides={{\"spec\":{{\"nodeName\":\"{m1}\"}}}}", "--command", "--", "sleep", "3600");
        await KubectlOutputAsync("expose", "pod", "web", "--port", "80", "--target-port", "8080");
        await KubectlOutputAsync("wait", "--for=condition=Ready", "pod/web", "pod/client", "--timeout=120s");
        string webIp = await KubectlOutputAsync("get", "pod", "web", "-o", "jsonpath={.status.podIP}");
        Assert.True(Ipv4InRange(webIp, cidr2), $"web's address {webIp} is in machine 2's {cidr2}");
        string clusterIp = await KubectlOutputAsync("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}");
        string clientNamespace = $"sb-{ClusterNames.FromDataDirectory(MachineDirectory(m1))}-{m1}_{await KubectlOutputAsync("get", "pod", "client", "-o", "jsonpath={.metadata.uid}")}";
        foreach (string url in new[] { $"http://{webIp}:8080/", $"http://{clusterIp}/" })
        {
            var answer = await ChildProcess.RunAsync("ip", ["netns", "exec", clientNamespace, "curl", "-s", "--max-time", "5", url]);
            Assert.Equal("web", answer.EnsureSuccess($"curl {url} from the client pod on {m1}").Stdout.Trim());
        }

        Assert.False(agent2.HasExited, agent2.Output);
    }

    [Fact]
    public async Task A_machine_whose_route_overlaps_its_pod_CIDR_is_refused_before_its_namespace_is_changed()
    {
        string machine = await MachineAsync(3);
        await IpBatchAsync(machine, [$"route add 10.244.0.0/16 via {LanAddress}"]);
        string before = await RoutesAsync(machine);
        string forwarding = await ForwardingAsync(machine);

        var agent = StartAgent(machine);
        Assert.NotEqual(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains("would be routed over the host's route '10.244.0.0/16 via 10.199.0.254 dev eth0', which overlaps it", agent.Output, StringComparison.Ordinal);
        Assert.Equal(before, await RoutesAsync(machine));
        Assert.Equal(forwarding, await ForwardingAsync(machine));
    }

    private static async Task<string> ForwardingAsync(string machine) =>
        (await ChildProcess.RunAsync("ip", ["netns", "exec", machine, "cat", "/proc/sys/net/ipv4/ip_forward"])).EnsureSuccess("ip_forward").Stdout.Trim();

    /// <summary>Machine <paramref name="index"/>: a namespace with eth0 on the LAN's bridge at 10.199.0.INDEX and a default route through the LAN.</summary>
    private async Task<string> MachineAsync(int index)
    {
        string machine = $"{_prefix}-m{index}";
        _machines.Add(machine);
        Directory.CreateDirectory(MachineDirectory(machine));
        await IpBatchAsync(null,
        [
            $"netns add {machine}",
            $"-n {machine} link set lo up",
            $"-n {machine} link add eth0 type veth peer name m{index} netns {Lan}",
            $"-n {Lan} link set m{index} master br0",
            $"-n {Lan} link set m{index} up",
            $"-n {machine} addr add 10.199.0.{index}/24 dev eth0",
            $"-n {machine} link set eth0 up",
            $"-n {machine} route add default via {LanAddress}",
        ]);
        return machine;
    }

    private string MachineDirectory(string machine) => _dataDirectory.File(machine);

    private RunningProcess StartAgent(string machine) =>
        Start(machine, "agent", "--kubeconfig", Kubeconfig, "--name", machine, "--data-dir", MachineDirectory(machine), "--host-gw");

    /// <summary>Runs switchboard in network namespace <paramref name="ns"/>, the host's mount namespace kept.</summary>
    private RunningProcess Start(string ns, params string[] args)
    {
        var process = RunningProcess.Start("nsenter", [$"--net=/run/netns/{ns}", SwitchboardUp.Program, .. SwitchboardUp.Arguments(args)]);
        _processes.Add(process);
        return process;
    }

    private Task<ProcessResult> KubectlAsync(params string[] args) =>
        ChildProcess.RunAsync("nsenter", [$"--net=/run/netns/{Lan}", "kubectl", "--kubeconfig", Kubeconfig, "--cache-dir", _dataDirectory.File("kubectl-cache"), .. args]);

    private async Task<string> KubectlOutputAsync(params string[] args) => (await KubectlAsync(args)).EnsureSuccess("kubectl " + string.Join(' ', args)).Stdout.Trim();

    private static async Task<string> RoutesAsync(string machine, params string[] selector) =>
        (await ChildProcess.RunAsync("ip", ["-n", machine, "-4", "route", "show", .. selector])).EnsureSuccess($"ip route in {machine}").Stdout;

    /// <summary>Runs <c>ip</c> commands in one batch, in namespace <paramref name="ns"/> (null: each command names its own).</summary>
    private static async Task IpBatchAsync(string? ns, IEnumerable<string> commands)
    {
        string script = string.Join('\n', commands.Select(c => "ip " + (ns is null ? "" : $"-n {ns} ") + c));
        (await ChildProcess.RunAsync("sh", ["-ec", script])).EnsureSuccess(script);
    }

    private static bool Ipv4InRange(string address, string cidr) =>
        Switchboard.Kube.Networking.Ipv4Cidr.Parse(cidr).Contains(System.Net.IPAddress.Parse(address));
}
