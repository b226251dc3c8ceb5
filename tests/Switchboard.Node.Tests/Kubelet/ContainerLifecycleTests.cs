using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>Images, restarts, readiness, deletion and agent restarts, observed through the API as a user would.</summary>
[Collection(NodeCollection.Name)]
public sealed class ContainerLifecycleTests(NodeFixture fixture)
{
    [Fact]
    public async Task An_unknown_image_waits_with_ErrImagePull_naming_the_images_provided()
    {
        const string ns = "t-image";
        await fixture.CreateNamespaceAsync(ns);
        var pod = NodeFixture.ShellPod("redis", "redis-server");
        pod.Spec.Containers[0].Image = "redis:7";
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(pod, ns);

        var waiting = await fixture.WaitForPodAsync(ns, "redis", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason == "ErrImagePull", "waiting ErrImagePull");
        string message = waiting.Status.ContainerStatuses[0].State.Waiting.Message;
        Assert.Contains("\"redis:7\"", message, StringComparison.Ordinal);
        Assert.Contains("switchboard/echo", message, StringComparison.Ordinal);
        Assert.Contains("nginx", message, StringComparison.Ordinal);
        Assert.Equal("Pending", waiting.Status.Phase);
    }

    [Fact]
    public async Task A_crashing_container_restarts_with_backoff_and_shows_CrashLoopBackOff()
    {
        const string ns = "t-crash";
        await fixture.CreateNamespaceAsync(ns);
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(NodeFixture.ShellPod("crasher", "sh", "-c", "echo dying; exit 3"), ns);

        var pod = await fixture.WaitForPodAsync(ns, "crasher", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason == "CrashLoopBackOff", "CrashLoopBackOff");
        var status = pod.Status.ContainerStatuses[0];
        Assert.True(status.RestartCount >= 1, $"restartCount {status.RestartCount}");
        Assert.Equal(3, status.LastState.Terminated.ExitCode);
        Assert.Equal("Error", status.LastState.Terminated.Reason);
        Assert.StartsWith("back-off 10s restarting failed container=main pod=crasher_t-crash(", status.State.Waiting.Message, StringComparison.Ordinal);
        Assert.Equal("Running", pod.Status.Phase);
        Assert.False(status.Ready);

        // The back-off holds the container down for 10 s after the last exit, then it runs (and crashes) again.
        var finished = status.LastState.Terminated.FinishedAt!.Value;
        var again = await fixture.WaitForPodAsync(ns, "crasher", p => p.Status.ContainerStatuses[0].RestartCount > status.RestartCount, "another restart", TimeSpan.FromSeconds(30));
        var restartedAt = again.Status.ContainerStatuses[0].State.Running?.StartedAt ?? again.Status.ContainerStatuses[0].LastState.Terminated.StartedAt;
        Assert.True(restartedAt >= finished.AddSeconds(9), $"restarted at {restartedAt:O}, 10 s after {finished:O}");
    }

    [Fact]
    public async Task A_failing_readiness_probe_takes_the_pod_out_of_Endpoints()
    {
        const string ns = "t-ready";
        await fixture.CreateNamespaceAsync(ns);
        await fixture.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "web" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
        }, ns);
        var web = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web", Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1PodSpec
            {
                TerminationGracePeriodSeconds = 1,
                Containers =
                [
                    new V1Container
                    {
                        Name = "echo",
                        Image = "switchboard/echo",
                        Ports = [new V1ContainerPort { ContainerPort = 8080 }],
                        ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = 8080 }, PeriodSeconds = 1 },
                    },
                    new V1Container
                    {
                        Name = "gate",
                        Image = "busybox",
                        Command = ["sh", "-c", "touch /tmp/ready; exec sleep infinity"],
                        ReadinessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["cat", "/tmp/ready"] }, PeriodSeconds = 1, FailureThreshold = 1 },
                    },
                ],
            },
        };
        var pod = await fixture.RunPodAsync(ns, web);
        await Eventually.WaitAsync(async () => (await Addresses(ns)).Ready.Contains(pod.Status.PodIP), "the pod's IP ready in Endpoints web");

        // The echo server answers by name over the pod network.
        var client = await fixture.RunPodAsync(ns, NodeFixture.ShellPod("client", "sleep", "infinity"));
        var answer = await fixture.ExecAsync(ns, "client", "curl", "-sS", "--max-time", "5", $"http://{pod.Status.PodIP}:8080/hostname");
        Assert.Equal("web", answer.Stdout);
        answer = await fixture.ExecAsync(ns, "client", "curl", "-sS", "--max-time", "5", $"http://{pod.Status.PodIP}:8080/clientip");
        Assert.StartsWith(client.Status.PodIP + ":", answer.Stdout, StringComparison.Ordinal);

        Assert.Equal(0, (await fixture.ExecAsync(ns, "web", "rm", "/tmp/ready")).ExitCode);
        var unready = await fixture.WaitForPodAsync(ns, "web", p => p.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "False"), "Ready False");
        var ready = unready.Status.Conditions.Single(c => c.Type == "ContainersReady");
        Assert.Equal("ContainersNotReady", ready.Reason);
        Assert.Equal("containers with unready status: [gate]", ready.Message);
        await Eventually.WaitAsync(async () => (await Addresses(ns)).NotReady.Contains(pod.Status.PodIP), "the pod's IP among the not-ready addresses");
        Assert.DoesNotContain(pod.Status.PodIP, (await Addresses(ns)).Ready);
    }

    [Fact]
    public async Task Deleting_pods_leaves_no_namespace_veth_process_or_address()
    {
        const string ns = "t-delete";
        await fixture.CreateNamespaceAsync(ns);
        var namespacesBefore = fixture.Namespaces();
        string nodeNs = $"{fixture.NamespacePrefix}{fixture.Options.NodeName}";
        string linksBefore = await LinksAsync(nodeNs);
        var pods = await Task.WhenAll(
            fixture.RunPodAsync(ns, NodeFixture.ShellPod("one", "sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait")),
            fixture.RunPodAsync(ns, NodeFixture.ShellPod("two", "sleep", "infinity")));
        Assert.Equal(namespacesBefore.Count + 2, fixture.Namespaces().Count);
        string uids = string.Join('|', pods.Select(p => p.Metadata.Uid));

        await fixture.Server.KubectlOkAsync("delete", "pod", "-n", ns, "one", "two", "--wait=true");

        Assert.Equal(namespacesBefore.Order(), fixture.Namespaces().Order());
        Assert.Equal(linksBefore, await LinksAsync(nodeNs));
        Assert.DoesNotContain(Processes(), p => pods.Any(pod => p.Contains(pod.Metadata.Uid, StringComparison.Ordinal)));
        string ipam = Path.Combine(fixture.Options.StateDirectory, "ipam");
        foreach (string file in Directory.EnumerateFiles(ipam, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotMatch(uids, File.ReadAllText(file));
        }

        Assert.All(pods, p => Assert.False(Directory.Exists(Path.Combine(fixture.Options.StateDirectory, "pods", p.Metadata.Uid))));
        Assert.All(pods, p => Assert.False(Directory.Exists(Path.Combine(fixture.Options.PodRuntimeDirectory, p.Metadata.Uid))));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(fixture.Options.StateDirectory, "logs"), $"{ns}_*"));
    }

    [Fact]
    public async Task After_a_restart_of_the_agent_the_same_pods_keep_running_with_the_same_IPs()
    {
        const string ns = "t-restart";
        await fixture.CreateNamespaceAsync(ns);
        // $$$$ is the shell's $$ once Kubernetes has expanded the command.
        var before = await fixture.RunPodAsync(ns, NodeFixture.ShellPod("steady", "sh", "-c", "echo $$$$ > /tmp/pid; exec sleep infinity"));
        var gone = await fixture.RunPodAsync(ns, NodeFixture.ShellPod("gone", "sleep", "infinity"));
        string pid = (await fixture.ExecAsync(ns, "steady", "cat", "/tmp/pid")).Stdout.Trim();
        // One monitor host runs the node's containers, both pods' among them.
        int host = Assert.Single(MonitorHosts());

        await fixture.StopNodeAsync();
        // Force-deleted while the agent is down: the new agent must clean up what it left.
        await fixture.Client.CoreV1.DeleteNamespacedPodAsync("gone", ns, new V1DeleteOptions { GracePeriodSeconds = 0 });
        await fixture.StartNodeAsync();
        Assert.DoesNotContain(fixture.Namespaces(), n => n.EndsWith(gone.Metadata.Uid, StringComparison.Ordinal));
        Assert.DoesNotContain(Processes(), p => p.Contains(gone.Metadata.Uid, StringComparison.Ordinal));
        var after = await fixture.WaitForPodAsync(ns, "steady", p => p.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True"), "Ready after the restart");

        Assert.Equal(before.Status.PodIP, after.Status.PodIP);
        Assert.Equal(0, after.Status.ContainerStatuses[0].RestartCount);
        Assert.Equal(before.Status.ContainerStatuses[0].State.Running.StartedAt, after.Status.ContainerStatuses[0].State.Running.StartedAt);
        var alive = await fixture.ExecAsync(ns, "steady", "kill", "-0", pid);
        Assert.True(alive.ExitCode == 0, $"the container's process {pid} still runs: {alive.Stderr}");
        Assert.Equal([host], MonitorHosts());
    }

    /// <summary>The pids of this node's container monitor hosts (<c>… runtime monitor RUNTIME_DIR</c>).</summary>
    private List<int> MonitorHosts() =>
        [.. Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? pid : 0).Where(pid => pid > 0 && CommandLine(pid).EndsWith(
            $"runtime monitor {fixture.Options.RuntimeDirectory}", StringComparison.Ordinal))];

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').TrimEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private async Task<(HashSet<string> Ready, HashSet<string> NotReady)> Addresses(string ns)
    {
        var ep = await fixture.Client.CoreV1.ReadNamespacedEndpointsAsync("web", ns);
        var subsets = ep.Subsets ?? [];
        return ([.. subsets.SelectMany(s => s.Addresses ?? []).Select(a => a.Ip)], [.. subsets.SelectMany(s => s.NotReadyAddresses ?? []).Select(a => a.Ip)]);
    }

    /// <summary>The names of the links in <paramref name="netns"/> (their state and the bridge's MAC change with its ports).</summary>
    private static async Task<string> LinksAsync(string netns)
    {
        var info = new System.Diagnostics.ProcessStartInfo("ip", ["-n", netns, "-br", "link"]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return string.Join(' ', output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).Order(StringComparer.Ordinal));
    }

    private static IEnumerable<string> Processes() =>
        Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? CommandLine(pid) : "");
}
