using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Switchboard.Node;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// <c>up --nodes 3</c>: node 1 in up's process, nodes 2 and 3 <c>switchboard agent</c> children, each node's namespace a
/// machine on the cluster's underlay. The backend spreads over the nodes and is reached across them (ClusterIP, pod IP,
/// NodePort on every node); a node whose agent is killed goes Unknown, leaves the Service, has its pod replaced after
/// its toleration, and comes back Ready without a duplicate; two such clusters run side by side.
/// </summary>
public sealed partial class MultiNodeTests
{
    // Short grace and toleration so the test runs in seconds; heartbeats well inside the grace period.
    private static readonly string[] ThreeNodes =
        ["--nodes", "3", "--node-monitor-grace-period", "6s", "--node-status-update-frequency", "1s", "--default-unreachable-toleration-seconds", "8"];

    [Fact]
    public async Task Three_nodes_spread_the_backend_reach_it_across_nodes_and_survive_a_killed_agent()
    {
        await using var up = await SwitchboardUp.StartAsync([.. ThreeNodes, "--node-name", "n"]);
        var kubectl = up.Kubectl;
        string[] nodes = (await kubectl.OutputAsync("get", "nodes", "-o", "jsonpath={.items[*].metadata.name}")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["n", "n-2", "n-3"], nodes.Order(StringComparer.Ordinal));
        await DeployBackendAsync(kubectl);
        await kubectl.OutputAsync("expose", "deployment", "backend", "--name", "backend-np", "--type", "NodePort", "--port", "80", "-n", "critical-app");

        // The three pods spread over the three nodes.
        var backend = await BackendPodsAsync(kubectl);
        Assert.Equal(nodes.Order(StringComparer.Ordinal), backend.Values.Select(p => p.Node).Order(StringComparer.Ordinal));

        // A client on node 1 reaches the pods on all three nodes through the ClusterIP (and the cluster DNS on node 1).
        await StartClientAsync(kubectl, "client", "n");
        Assert.Equal(backend.Keys.Order(StringComparer.Ordinal), (await CurlServiceAsync(kubectl, "client", 30)).Order(StringComparer.Ordinal));

        // A pod on node 2 reaches the pod on node 3 by its IP.
        await StartClientAsync(kubectl, "client-2", "n-2");
        var onNode3 = backend.Single(p => p.Value.Node == "n-3");
        string direct = await kubectl.OutputAsync("exec", "client-2", "-n", "critical-app", "--", "curl", "-s", "--max-time", "5", $"http://{onNode3.Value.Ip}/");
        Assert.Equal(onNode3.Key, ServedBy().Match(direct).Groups[1].Value);

        // The NodePort answers on every node's underlay address, from a machine on the underlay outside the cluster.
        string underlay = NodeUnderlay.NamespaceOf(ClusterNames.FromDataDirectory(up.DataDirectory));
        string nodePort = (await kubectl.OutputAsync("get", "service", "backend-np", "-n", "critical-app", "-o", "jsonpath={.spec.ports[0].nodePort}")).Trim();
        foreach (string node in nodes)
        {
            string address = (await kubectl.OutputAsync("get", "node", node, "-o", @"jsonpath={.metadata.annotations.switchboard\.dev/public-ip}")).Trim();
            var answer = await ChildProcess.RunAsync("ip", ["netns", "exec", underlay, "curl", "-s", "--max-time", "5", $"http://{address}:{nodePort}/"]);
            Assert.True(ServedBy().IsMatch(answer.EnsureSuccess($"curl NodePort on {node} ({address})").Stdout), $"node {node}: {answer.Stdout}");
        }

        // SIGKILL node 3's agent: it goes Unknown, tainted, and its endpoint leaves the Service.
        var agentPid = File.ReadAllText(Path.Combine(up.DataDirectory, "nodes", "n-3", "agent.pid")).Split(' ')[0];
        string[] agentCommand = File.ReadAllText($"/proc/{agentPid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        using (var agent = Process.GetProcessById(int.Parse(agentPid, CultureInfo.InvariantCulture)))
        {
            agent.Kill();
            await agent.WaitForExitAsync();
        }

        await Eventually.WaitAsync(async () => await NodeReadyAsync(kubectl, "n-3") == "Unknown", "node n-3 Ready=Unknown");
        Assert.Contains("node.kubernetes.io/unreachable", await kubectl.OutputAsync("get", "node", "n-3", "-o", "jsonpath={.spec.taints[*].key}"), StringComparison.Ordinal);
        await Eventually.WaitAsync(async () => !(await ReadyEndpointsAsync(kubectl)).Contains(onNode3.Value.Ip), "node n-3's endpoint not ready");

        // Its pod still runs (the agent died, not the machine): once node 1's proxy has dropped it, no curl reaches it.
        await Eventually.WaitAsync(async () => !(await ChildProcess.RunAsync("ip", ["netns", "exec", $"sb-{ClusterNames.FromDataDirectory(up.DataDirectory)}-n", "iptables-save", "-t", "nat"]))
            .EnsureSuccess("iptables-save").Stdout.Contains(onNode3.Value.Ip + ":", StringComparison.Ordinal), "node 1's proxy without node n-3's endpoint");
        Assert.DoesNotContain(onNode3.Key, await CurlServiceAsync(kubectl, "client", 20));

        // After the 8 s toleration its pod is evicted and replaced on a live node.
        await Eventually.WaitAsync(async () =>
        {
            var pods = await BackendPodsAsync(kubectl, includeTerminating: true);
            return pods.TryGetValue(onNode3.Key, out var evicted) && evicted.Terminating
                && pods.Values.Count(p => !p.Terminating && p.Ready && p.Node != "n-3") == 3;
        }, "node n-3's pod evicted and three ready pods on the live nodes", TimeSpan.FromSeconds(90));

        // The agent started again: the node is Ready and untainted, the evicted pod is gone, and nothing is duplicated.
        using var restarted = RunningProcess.Start(agentCommand[0], agentCommand[1..]);
        await Eventually.WaitAsync(async () => await NodeReadyAsync(kubectl, "n-3") == "True"
            && !(await kubectl.OutputAsync("get", "node", "n-3", "-o", "jsonpath={.spec.taints[*].key}")).Contains("node.kubernetes.io/", StringComparison.Ordinal),
            "node n-3 Ready and untainted", TimeSpan.FromSeconds(90));
        await Eventually.WaitAsync(async () => (await BackendPodsAsync(kubectl, includeTerminating: true)).Count == 3, "the evicted pod deleted by its node", TimeSpan.FromSeconds(60));
        var after = await BackendPodsAsync(kubectl, includeTerminating: true);
        Assert.DoesNotContain(onNode3.Key, after.Keys);
        Assert.All(after.Values, p => Assert.False(p.Terminating));
    }

    [Fact]
    public async Task Two_clusters_of_three_nodes_run_side_by_side_each_reaching_only_its_own_pods()
    {
        await using var first = await SwitchboardUp.StartAsync([.. ThreeNodes, "--node-name", "a"]);
        await using var second = await SwitchboardUp.StartAsync([.. ThreeNodes, "--node-name", "b"]);
        string[] underlays = [.. new[] { first, second }.Select(up => NodeUnderlay.NamespaceOf(ClusterNames.FromDataDirectory(up.DataDirectory)))];
        Assert.NotEqual(underlays[0], underlays[1]);
        Assert.All(underlays, u => Assert.True(File.Exists(Path.Combine("/run/netns", u)), u));

        foreach (var (up, node) in new[] { (first, "a"), (second, "b") })
        {
            await DeployBackendAsync(up.Kubectl);
            var backend = await BackendPodsAsync(up.Kubectl);
            Assert.Equal([node, $"{node}-2", $"{node}-3"], backend.Values.Select(p => p.Node).Order(StringComparer.Ordinal));
            await StartClientAsync(up.Kubectl, "client", node);

            // Both clusters hand out the same pod addresses; each client still reaches only its own cluster's pods.
            Assert.Equal(backend.Keys.Order(StringComparer.Ordinal), (await CurlServiceAsync(up.Kubectl, "client", 30)).Order(StringComparer.Ordinal));
        }

        // Stopping up stops its agents as kubelet is stopped: SIGTERM, and each ends on its own, not killed.
        await first.DownAsync();
        Assert.All((string[])["a-2", "a-3"], node => Assert.Contains($"Agent of node {node} stopped on SIGTERM with exit code 0", first.Log, StringComparison.Ordinal));
        Assert.DoesNotContain("after SIGTERM: killed", first.Log, StringComparison.Ordinal);
    }

    private static async Task DeployBackendAsync(Kubectl kubectl)
    {
        await kubectl.OutputAsync("create", "namespace", "critical-app");
        await kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        await Eventually.WaitAsync(async () => (await BackendPodsAsync(kubectl)).Values.Count(p => p.Ready) == 3 && (await ReadyEndpointsAsync(kubectl)).Count == 3,
            "three ready backend pods and endpoints", TimeSpan.FromSeconds(120));
    }

    private static async Task StartClientAsync(Kubectl kubectl, string name, string node)
    {
        await kubectl.OutputAsync("run", name, "-n", "critical-app", "--image=curlimages/curl", "--restart=Never",
            $"--overrides={{\"spec\":{{\"nodeName\":\"{node}\"}}}}", "--command", "--", "sleep", "3600");
        await kubectl.OutputAsync("wait", "--for=condition=Ready", $"pod/{name}", "-n", "critical-app", "--timeout=120s");
    }

    /// <summary>The pods that answered <paramref name="count"/> requests to the backend Service from pod <paramref name="client"/>.</summary>
    private static async Task<HashSet<string>> CurlServiceAsync(Kubectl kubectl, string client, int count)
    {
        string output = await kubectl.OutputAsync("exec", client, "-n", "critical-app", "--", "sh", "-c",
            $"for i in $(seq {count}); do curl -s --max-time 2 backend; done");
        return ServedBy().Matches(output).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
    }

    private static async Task<Dictionary<string, BackendPod>> BackendPodsAsync(Kubectl kubectl, bool includeTerminating = false)
    {
        string lines = await kubectl.OutputAsync("get", "pods", "-n", "critical-app", "-l", "role=backend", "-o",
            @"jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.conditions[?(@.type==""Ready"")].status} {.metadata.deletionTimestamp}{""\n""}{end}");
        var pods = new Dictionary<string, BackendPod>(StringComparer.Ordinal);
        foreach (string[] f in lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')))
        {
            var pod = new BackendPod(f[1], f[2], f[3] == "True", f.Length > 4 && f[4].Length > 0);
            if (includeTerminating || !pod.Terminating)
            {
                pods[f[0]] = pod;
            }
        }

        return pods;
    }

    private static async Task<List<string>> ReadyEndpointsAsync(Kubectl kubectl) =>
        [.. (await kubectl.OutputAsync("get", "endpointslices", "-n", "critical-app", "-l", "kubernetes.io/service-name=backend", "-o",
            @"jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"" ""}{end}")).Split(' ', StringSplitOptions.RemoveEmptyEntries)];

    private static Task<string> NodeReadyAsync(Kubectl kubectl, string node) =>
        kubectl.OutputAsync("get", "node", node, "-o", @"jsonpath={.status.conditions[?(@.type==""Ready"")].status}");

    [GeneratedRegex(@"Served by pod ([a-z0-9-]+)")]
    private static partial Regex ServedBy();

    private sealed record BackendPod(string Node, string Ip, bool Ready, bool Terminating);
}
