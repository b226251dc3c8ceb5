using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Operations;

/// <summary>
/// The real kubectl 1.32's cordon, uncordon and drain against the node: cordoning keeps new pods off (the scheduler
/// honours spec.unschedulable and the taint it implies), and drain evicts through pods/eviction, retrying while a
/// PodDisruptionBudget forbids it and finishing once the budget allows. The node is shared: drain takes only this
/// test's pods (--pod-selector) and every test uncordons the node at its end.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class DrainTests(NodeFixture fixture) : IAsyncLifetime
{
    private const string Ns = "t-drain";
    private const string Node = "node-1";

    private Kubectl Kubectl => fixture.Server.Kubectl;

    private IKubernetes Client => fixture.Client;

    public Task InitializeAsync() => fixture.EnsureNamespaceAsync(Ns);

    public async Task DisposeAsync() => await Kubectl.RunAsync("uncordon", Node);

    [Fact]
    public async Task Cordon_keeps_new_pods_off_the_node_until_uncordon()
    {
        Assert.Equal($"node/{Node} cordoned\n", await Kubectl.OutputAsync("cordon", Node));
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNodeAsync(Node)).Spec.Taints?.Any(t => t.Key == "node.kubernetes.io/unschedulable" && t.Effect == "NoSchedule") == true,
            "the cordoned node carries the unschedulable taint");
        await Client.CoreV1.CreateNamespacedPodAsync(NodeFixture.ShellPod("kept-off", "sleep", "infinity"), Ns);
        var pending = await fixture.WaitForPodAsync(Ns, "kept-off", p => p.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Reason == "Unschedulable") == true, "refused by the scheduler");
        Assert.Contains("node(s) were unschedulable", pending.Status.Conditions.Single(c => c.Type == "PodScheduled").Message, StringComparison.Ordinal);

        // A pod that tolerates the taint, as DaemonSet pods do, is still placed on the cordoned node.
        var tolerant = NodeFixture.ShellPod("tolerant", "sleep", "infinity");
        tolerant.Spec.Tolerations = [new V1Toleration { Key = "node.kubernetes.io/unschedulable", OperatorProperty = "Exists", Effect = "NoSchedule" }];
        await fixture.RunPodAsync(Ns, tolerant, ready: false);

        Assert.Equal($"node/{Node} uncordoned\n", await Kubectl.OutputAsync("uncordon", Node));
        var placed = await fixture.WaitForPodAsync(Ns, "kept-off", p => p.Status?.Phase == "Running", "running once the node is uncordoned");
        Assert.Equal(Node, placed.Spec.NodeName);
        Assert.Null((await Client.CoreV1.ReadNodeAsync(Node)).Spec.Taints?.FirstOrDefault(t => t.Key == "node.kubernetes.io/unschedulable"));
    }

    [Fact]
    public async Task Drain_retries_while_the_budget_forbids_an_eviction_and_finishes_once_it_allows()
    {
        // Its own label: other tests' pods on this shared node carry app=web, and drain's --pod-selector spans namespaces.
        await Kubectl.OutputAsync("create", "deployment", "drained", "-n", Ns, "--image=debian:12", "--replicas=2", "--", "sleep", "infinity");
        await Kubectl.OutputAsync("create", "poddisruptionbudget", "web", "-n", Ns, "--selector=app=drained", "--min-available=2");
        await Eventually.WaitAsync(async () =>
        {
            var pdb = await Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("web", Ns);
            return pdb.Status?.CurrentHealthy == 2 && pdb.Status.ExpectedPods == 2;
        }, "the budget counts two healthy pods", TimeSpan.FromSeconds(90));
        var table = await Kubectl.OutputAsync("get", "pdb", "web", "-n", Ns);
        Assert.Matches(@"(?m)^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\n^web\s+2\s+N/A\s+0\s+", table);

        using var drain = Kubectl.Start("drain", Node, "--pod-selector=app=drained", "--timeout=120s");
        await drain.WaitForLineAsync(l => l.Contains("Cannot evict pod as it would violate the pod's disruption budget.", StringComparison.Ordinal), "the budget's refusal", TimeSpan.FromSeconds(60));
        Assert.True((await Client.CoreV1.ReadNodeAsync(Node)).Spec.Unschedulable);
        Assert.Equal(2, (await Client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app=drained")).Items.Count(p => p.Metadata.DeletionTimestamp is null));

        // The replacements cannot be scheduled on the cordoned node, so only a budget that needs none lets both go.
        await Kubectl.OutputAsync("patch", "pdb", "web", "-n", Ns, "--type=merge", "-p", "{\"spec\":{\"minAvailable\":0}}");

        int exit = await drain.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, drain.Output);
        Assert.Contains($"node/{Node} drained", drain.Output, StringComparison.Ordinal);
        Assert.Equal(2, drain.StandardOutputLines.Count(l => l.StartsWith("pod/drained-", StringComparison.Ordinal) && l.EndsWith(" evicted", StringComparison.Ordinal)));
        var left = (await Client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app=drained")).Items;
        Assert.All(left.Where(p => p.Metadata.DeletionTimestamp is null), p => Assert.True(string.IsNullOrEmpty(p.Spec.NodeName), $"{p.Metadata.Name} should wait for a node"));
    }
}
