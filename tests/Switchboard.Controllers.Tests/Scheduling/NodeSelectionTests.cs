using Switchboard.Testing;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;

namespace Switchboard.Controllers.Tests.Scheduling;

/// <summary>The scheduler honours spec.nodeSelector, required node affinity and scheduling gates.</summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeSelectionTests
{
    private readonly ClusterFixture _cluster;

    public NodeSelectionTests(ClusterFixture cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    [Fact]
    public async Task Pods_go_only_to_nodes_their_selector_and_required_affinity_select_and_wait_until_a_node_matches()
    {
        string ns = "select-" + Guid.NewGuid().ToString("N")[..6];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        try
        {
            var byName = new V1Affinity
            {
                NodeAffinity = new V1NodeAffinity
                {
                    RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                    {
                        NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = ["node-1"] }] }],
                    },
                },
            };
            var notSsd = new V1Affinity
            {
                NodeAffinity = new V1NodeAffinity
                {
                    RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                    {
                        NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = "disk", OperatorProperty = "NotIn", Values = ["ssd"] }] }],
                    },
                },
            };
            await CreatePodAsync(ns, "pinned", affinity: byName);
            await CreatePodAsync(ns, "picky", nodeSelector: new Dictionary<string, string> { ["disk"] = "ssd" });

            await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("pinned", ns)).Spec.NodeName == "node-1", "pinned bound to node-1");
            await Eventually.WaitAsync(async () =>
            {
                var pod = await Client.CoreV1.ReadNamespacedPodAsync("picky", ns);
                return pod.Status.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False"
                    && c.Message == "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.") == true;
            }, "picky unschedulable because node-1's labels do not match");

            await _cluster.Server.KubectlOkAsync("label", "node", "node-1", "disk=ssd");
            await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("picky", ns)).Spec.NodeName == "node-1", "picky bound once node-1 has disk=ssd");

            await CreatePodAsync(ns, "not-on-ssd", affinity: notSsd);
            await Eventually.WaitAsync(async () =>
                (await Client.CoreV1.ReadNamespacedPodAsync("not-on-ssd", ns)).Status.Conditions?.Any(c => c.Type == "PodScheduled" && c.Reason == "Unschedulable") == true,
                "not-on-ssd unschedulable while node-1 has disk=ssd");
            Assert.Null((await Client.CoreV1.ReadNamespacedPodAsync("not-on-ssd", ns)).Spec.NodeName);
        }
        finally
        {
            await _cluster.Server.KubectlAsync("label", "node", "node-1", "disk-");
        }
    }

    [Fact]
    public async Task A_gated_pod_waits_unbound_until_its_last_scheduling_gate_is_removed()
    {
        string ns = "gate-" + Guid.NewGuid().ToString("N")[..6];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });

        await CreatePodAsync(ns, "gated", gates: ["example.com/hold"]);
        await CreatePodAsync(ns, "free");

        // The free pod comes second: once it is bound, the scheduler has seen the gated one and left it alone, as
        // kube-scheduler does: no event, and the SchedulingGated condition the API server gave it on create.
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("free", ns)).Spec.NodeName == "node-1", "free bound to node-1");
        var waiting = await Client.CoreV1.ReadNamespacedPodAsync("gated", ns);
        Assert.Null(waiting.Spec.NodeName);
        var gatedCondition = Assert.Single(waiting.Status.Conditions, c => c.Type == "PodScheduled");
        Assert.Equal(("False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates"), (gatedCondition.Status, gatedCondition.Reason, gatedCondition.Message));
        Assert.DoesNotContain((await Client.CoreV1.ListNamespacedEventAsync(ns)).Items, e => e.InvolvedObject.Name == "gated");

        await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"spec":{"schedulingGates":null}}""", V1Patch.PatchType.MergePatch), "gated", ns);
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("gated", ns)).Spec.NodeName == "node-1", "gated bound once its gate is gone");
        var bound = await Client.CoreV1.ReadNamespacedPodAsync("gated", ns);
        Assert.Contains(bound.Status.Conditions, c => c is { Type: "PodScheduled", Status: "True" });
    }

    private Task<V1Pod> CreatePodAsync(string ns, string name, V1Affinity? affinity = null, Dictionary<string, string>? nodeSelector = null, string[]? gates = null) =>
        Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = "c", Image = "nginx" }],
                Affinity = affinity,
                NodeSelector = nodeSelector,
                SchedulingGates = gates?.Select(g => new V1PodSchedulingGate { Name = g }).ToList(),
            },
        }, ns);
}
