using k8s;
using Switchboard.Controllers.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Workloads;

/// <summary>DaemonSets over three nodes: one pod per node the template fits (cordoned ones too, tainted ones only when tolerated), placed by the scheduler, and a surge rolling update.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DaemonSetTests
{
    private const string Agent = """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
        spec:
          selector:
            matchLabels:
              app: agent
          template:
            metadata:
              labels:
                app: agent
            spec:
              containers:
              - name: agent
                image: busybox
        """;

    private readonly ClusterFixture _cluster;

    public DaemonSetTests(ClusterFixture cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    [Fact]
    public async Task One_pod_runs_on_each_node_it_fits_and_a_surge_update_replaces_them_all()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "ds");
        await using var cordoned = await FakeNode.StartAsync(Client, "ds-cordoned-" + ns.Name[^6..], subnet: 201);
        await using var tainted = await FakeNode.StartAsync(Client, "ds-tainted-" + ns.Name[^6..], subnet: 202);
        try
        {
            await _cluster.Server.KubectlOkAsync("cordon", cordoned.Name);
            await _cluster.Server.KubectlOkAsync("taint", "node", tainted.Name, "dedicated=infra:NoSchedule");
            await ns.ApplyAsync(Agent);

            // node-1 and the cordoned node (daemon pods tolerate node.kubernetes.io/unschedulable), not the tainted one.
            await Eventually.WaitAsync(async () => (await Client.AppsV1.ReadNamespacedDaemonSetAsync("agent", ns.Name)).Status is { DesiredNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2 },
                "2 of 2 daemon pods ready");
            var pods = (await ns.PodsAsync()).Where(p => p.Metadata.DeletionTimestamp is null).ToList();
            Assert.Equal(new[] { "node-1", cordoned.Name }.Order(StringComparer.Ordinal), pods.Select(p => p.Spec.NodeName).Order(StringComparer.Ordinal));
            foreach (var pod in pods)
            {
                // The controller names the node through affinity; the scheduler did the binding.
                var term = Assert.Single(pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms);
                Assert.Equal(pod.Spec.NodeName, Assert.Single(Assert.Single(term.MatchFields).Values));
                Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/unschedulable" && t.Effect == "NoSchedule");
            }

            string table = await ns.KubectlAsync("get", "daemonsets");
            Assert.Matches(@"NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\s*\nagent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+\S+", table);

            // A new template that tolerates the taint, rolled out one node at a time with a surge pod beside the old one.
            await ns.KubectlAsync("patch", "daemonset", "agent", "-p", """
                {"spec":{"updateStrategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},
                 "template":{"spec":{"tolerations":[{"key":"dedicated","operator":"Equal","value":"infra","effect":"NoSchedule"}]}}}}
                """);
            string rollout = await ns.KubectlAsync("rollout", "status", "daemonset/agent", "--timeout=60s");
            Assert.Contains("daemon set \"agent\" successfully rolled out", rollout, StringComparison.Ordinal);
            await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count == 3, "the old pods gone, one new pod per node");
            var updated = await ns.PodsAsync();
            Assert.Equal(new[] { "node-1", cordoned.Name, tainted.Name }.Order(StringComparer.Ordinal), updated.Select(p => p.Spec.NodeName).Order(StringComparer.Ordinal));
            Assert.All(updated, p => Assert.Contains(p.Spec.Tolerations, t => t.Key == "dedicated"));
            var status = (await Client.AppsV1.ReadNamespacedDaemonSetAsync("agent", ns.Name)).Status;
            Assert.Equal((3, 3, 3, 0), (status.DesiredNumberScheduled, status.UpdatedNumberScheduled ?? 0, status.NumberAvailable ?? 0, status.NumberMisscheduled));
            Assert.Equal(2, (await Client.AppsV1.ListNamespacedControllerRevisionAsync(ns.Name)).Items.Count);

            // A node the template no longer selects loses its pod.
            await _cluster.Server.KubectlOkAsync("label", "node", tainted.Name, "agent=yes");
            await ns.KubectlAsync("patch", "daemonset", "agent", "-p", """{"spec":{"template":{"spec":{"nodeSelector":{"agent":"yes"}}}}}""");
            await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Select(p => p.Spec.NodeName).SequenceEqual([tainted.Name]), "only the labelled node's pod left");
        }
        finally
        {
            await ns.KubectlAsync("delete", "daemonset", "agent", "--ignore-not-found", "--wait=false");
            await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count == 0, "the daemon pods gone while their nodes still run");
            foreach (var node in new[] { cordoned.Name, tainted.Name })
            {
                await Client.CoreV1.DeleteNodeAsync(node);
            }
        }
    }
}
