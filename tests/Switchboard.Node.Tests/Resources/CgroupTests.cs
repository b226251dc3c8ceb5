using System.Globalization;
using k8s;
using k8s.Models;
using Switchboard.Kube.Hosting;
using Switchboard.Node.Resources;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Resources;

/// <summary>resources.limits as cgroup limits on this machine's real hierarchies (v1 memory, cpu and cpuacct here), OOM kills, cleanup.</summary>
[Collection(NodeCollection.Name)]
public sealed class CgroupTests(NodeFixture fixture)
{
    private const string Root = "/sys/fs/cgroup";

    [Fact]
    public async Task A_pod_over_its_memory_limit_is_OOMKilled_with_exit_code_137()
    {
        const string ns = "t-oom";
        await fixture.CreateNamespaceAsync(ns);
        // The shell keeps the whole output of the substitution in memory: 200 MB against a 32 MiB limit.
        var pod = NodeFixture.ShellPod("hog", "sh", "-c", "x=$$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}");
        pod.Spec.RestartPolicy = "Never";
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("32Mi") } };
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(pod, ns);

        var ended = await fixture.WaitForPodAsync(ns, "hog", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Terminated is not null, "the container terminated");

        var terminated = ended.Status.ContainerStatuses[0].State.Terminated;
        Assert.Equal("OOMKilled", terminated.Reason);
        Assert.Equal(137, terminated.ExitCode);
        Assert.Equal("Failed", (await fixture.WaitForPodAsync(ns, "hog", p => p.Status.Phase is "Failed" or "Succeeded", "a final phase")).Status.Phase);
    }

    [Fact]
    public async Task Limits_are_written_to_the_pod_and_container_cgroups_which_go_with_the_pod()
    {
        const string ns = "t-limits";
        await fixture.CreateNamespaceAsync(ns);
        var spec = NodeFixture.ShellPod("capped", "sleep", "infinity");
        spec.Spec.Containers[0].Resources = new V1ResourceRequirements
        {
            Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m"), ["memory"] = new("64Mi") },
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("32Mi") },
        };
        var pod = await fixture.RunPodAsync(ns, spec);
        Assert.Equal("Burstable", pod.Status.QosClass);
        string podPath = $"switchboard/{fixture.Options.ClusterName}/{fixture.Options.NodeName}/kubepods/burstable/pod{pod.Metadata.Uid}";
        string container = podPath + "/main-0";

        Assert.Equal(64L * 1024 * 1024, Number("memory", container, "memory.limit_in_bytes"));
        Assert.Equal(25_000, Number("cpu", container, "cpu.cfs_quota_us"));
        Assert.Equal(100_000, Number("cpu", container, "cpu.cfs_period_us"));
        Assert.Equal(102, Number("cpu", container, "cpu.shares"));
        Assert.Equal(64L * 1024 * 1024, Number("memory", podPath, "memory.limit_in_bytes"));
        Assert.Equal(25_000, Number("cpu", podPath, "cpu.cfs_quota_us"));

        // The container runs inside its cgroups (in all three hierarchies), placed there before it exec'd sleep
        // (the running state comes as soon as the monitor started it: the exec chain may still be on its way to sleep).
        foreach (string hierarchy in (string[])["memory", "cpu", "cpuacct"])
        {
            await Eventually.WaitAsync(
                () => CgroupFiles.Pids(Path.Combine(Root, hierarchy, container)).Any(pid => File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep\0", StringComparison.Ordinal)),
                $"sleep in the container's {hierarchy} cgroup");
        }

        await fixture.Server.KubectlOkAsync("delete", "pod", "-n", ns, "capped", "--wait=true");

        foreach (string hierarchy in (string[])["memory", "cpu", "cpuacct"])
        {
            string kubepods = Path.Combine(Root, hierarchy, $"switchboard/{fixture.Options.ClusterName}/{fixture.Options.NodeName}/kubepods");
            var left = Directory.EnumerateDirectories(kubepods, "*", SearchOption.AllDirectories).Where(d => d.Contains(pod.Metadata.Uid, StringComparison.Ordinal));
            Assert.Empty(left);
        }
    }

    [Fact]
    public void The_nodes_pods_weigh_together_as_its_allocatable_cpu_against_processes_outside_them()
    {
        // kubepods and every parent above it, up to the one beside the machine's own processes.
        string[] levels = ["switchboard", $"switchboard/{fixture.Options.ClusterName}", $"switchboard/{fixture.Options.ClusterName}/{fixture.Options.NodeName}",
            $"switchboard/{fixture.Options.ClusterName}/{fixture.Options.NodeName}/kubepods"];

        foreach (string level in levels)
        {
            Assert.Equal(Environment.ProcessorCount * 1024L, Number("cpu", level, "cpu.shares"));
        }
    }

    [Fact]
    public void Without_writable_hierarchies_there_are_no_cgroups_and_the_reason_says_why()
    {
        using var empty = new TempDirectory();

        Assert.Null(Cgroups.Open(empty.Path, "x", "n", out string problem));
        Assert.Contains($"no cgroup v1 memory, cpu and cpuacct hierarchies under {empty.Path}", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_without_cgroups_says_once_in_an_event_that_it_cannot_enforce_limits()
    {
        using var empty = new TempDirectory();
        const string name = "node-nocg";
        // Unschedulable before it starts, so no test's pod lands on it.
        await fixture.Client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = name }, Spec = new V1NodeSpec { Unschedulable = true } });
        var options = fixture.Options with { NodeName = name, CgroupRoot = empty.Path, StateDirectory = Path.Combine(empty.Path, "state") };
        try
        {
            await using (var node = await ComponentTestHost.StartAsync(services => services.AddKubeClient(fixture.Server.KubeconfigPath).AddNode(options)))
            {
                await node.Get<NodeAgent>().WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
                Corev1Event? warning = null;
                await Eventually.WaitAsync(async () =>
                {
                    var events = await fixture.Client.CoreV1.ListNamespacedEventAsync("default");
                    warning = events.Items.SingleOrDefault(e => e.InvolvedObject.Kind == "Node" && e.InvolvedObject.Name == name && e.Reason == NodeAgent.CgroupsUnavailableReason);
                    return warning is not null;
                }, "the node's Warning event about limits");
                Assert.Equal("Warning", warning!.Type);
                Assert.StartsWith("cpu and memory limits cannot be enforced: ", warning.Message, StringComparison.Ordinal);
                Assert.Equal(1, warning.Count ?? 1);
            }
        }
        finally
        {
            await NodeTeardown.RunAsync(options);
            await fixture.Client.CoreV1.DeleteNodeAsync(name);
        }
    }

    private static long Number(string hierarchy, string relative, string file) =>
        long.Parse(File.ReadAllText(Path.Combine(Root, hierarchy, relative, file)).Trim(), CultureInfo.InvariantCulture);
}
