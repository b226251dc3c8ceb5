using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Workloads;

/// <summary>StatefulSets through kubectl: stable names and DNS identity, ordered and parallel management, scaling, rolling updates with partitions, OnDelete.</summary>
[Collection(ClusterCollection.Name)]
public sealed class StatefulSetTests
{
    private readonly ClusterFixture _cluster;

    public StatefulSetTests(ClusterFixture cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    private static string Web(int replicas, string policy = "OrderedReady", string extraSpec = "", string podSpec = "") => $$"""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: web
        spec:
          serviceName: nginx
          replicas: {{replicas}}
          podManagementPolicy: {{policy}}
          selector:
            matchLabels:
              app: nginx
        {{extraSpec}}
          template:
            metadata:
              labels:
                app: nginx
            spec:
        {{podSpec}}
              containers:
              - name: nginx
                image: nginx
        """;

    [Fact]
    public async Task Pods_get_stable_names_with_hostname_and_subdomain_and_the_headless_service_publishes_them()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "sts-names");
        await ns.KubectlAsync("apply", "-f", InProcessApiServer.ExampleFile("web-statefulset.yaml"));

        string rollout = await ns.KubectlAsync("rollout", "status", "statefulset/web", "--timeout=60s");
        // The default partition is 0, so kubectl 1.32 reports a partitioned roll out, as it does against kube-apiserver.
        Assert.Contains("partitioned roll out complete: 2 new pods have been updated...", rollout, StringComparison.Ordinal);

        var pods = await ns.PodsAsync("app=nginx");
        Assert.Equal(["web-0", "web-1"], pods.Select(p => p.Metadata.Name));
        var set = await Client.AppsV1.ReadNamespacedStatefulSetAsync("web", ns.Name);
        foreach (var (pod, ordinal) in pods.Select((p, i) => (p, i)))
        {
            Assert.Equal((pod.Metadata.Name, "nginx"), (pod.Spec.Hostname, pod.Spec.Subdomain));
            Assert.Equal(pod.Metadata.Name, pod.Metadata.Labels["statefulset.kubernetes.io/pod-name"]);
            Assert.Equal(ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), pod.Metadata.Labels["apps.kubernetes.io/pod-index"]);
            Assert.Equal(set.Status.UpdateRevision, pod.Metadata.Labels["controller-revision-hash"]);
            Assert.Equal(("StatefulSet", "web", true), (pod.Metadata.OwnerReferences.Single().Kind, pod.Metadata.OwnerReferences.Single().Name, pod.Metadata.OwnerReferences.Single().Controller == true));
        }

        Assert.Equal((2, 2, 2, 2), (set.Status.Replicas, set.Status.ReadyReplicas ?? 0, set.Status.CurrentReplicas ?? 0, set.Status.UpdatedReplicas ?? 0));
        Assert.Equal(set.Status.CurrentRevision, set.Status.UpdateRevision);

        // The endpoints controllers give each address its pod's hostname, which the cluster DNS serves as web-N.nginx.
        await Eventually.WaitAsync(async () =>
        {
            var slices = await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns.Name, labelSelector: "kubernetes.io/service-name=nginx");
            var hostnames = slices.Items.SelectMany(s => s.Endpoints ?? []).Select(e => e.Hostname).Order(StringComparer.Ordinal).ToList();
            return hostnames.SequenceEqual(["web-0", "web-1"]);
        }, "the EndpointSlice of nginx naming web-0 and web-1");

        string table = await ns.KubectlAsync("get", "statefulsets");
        Assert.Matches(@"NAME\s+READY\s+AGE\s*\nweb\s+2/2\s+\S+", table);
    }

    [Fact]
    public async Task OrderedReady_waits_for_each_pod_before_the_next_while_Parallel_creates_them_all()
    {
        // No node has this label: web-0 stays Pending, never Ready.
        const string unplaceable = "      nodeSelector:\n        switchboard.test/none: \"true\"";
        var ordered = await WorkloadNamespace.CreateAsync(_cluster, "sts-ordered");
        await ordered.ApplyAsync(Web(3, podSpec: unplaceable));
        var parallel = await WorkloadNamespace.CreateAsync(_cluster, "sts-parallel");
        await parallel.ApplyAsync(Web(3, "Parallel", podSpec: unplaceable));

        await Eventually.WaitAsync(async () => (await parallel.PodsAsync()).Count == 3, "three Parallel pods");
        Assert.Equal(["web-0", "web-1", "web-2"], (await parallel.PodsAsync()).Select(p => p.Metadata.Name));

        // The ordered set has seen web-0 (status counts it) and still made no other.
        await Eventually.WaitAsync(async () => (await Client.AppsV1.ReadNamespacedStatefulSetAsync("web", ordered.Name)).Status?.Replicas == 1, "the ordered set counting web-0");
        await Eventually.WaitAsync(async () => (await Client.AppsV1.ReadNamespacedStatefulSetAsync("web", parallel.Name)).Status?.Replicas == 3, "the parallel set counting 3");
        Assert.Equal(["web-0"], (await ordered.PodsAsync()).Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task Scaling_down_removes_the_highest_ordinals_and_a_failed_pod_comes_back_under_its_name()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "sts-scale");
        await ns.ApplyAsync(Web(3));
        await ns.KubectlAsync("rollout", "status", "statefulset/web", "--timeout=60s");

        var failed = (await ns.PodsAsync()).Single(p => p.Metadata.Name == "web-1");
        await ns.FinishPodAsync("web-1", succeeded: false);
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).SingleOrDefault(p => p.Metadata.Name == "web-1") is { } again
            && again.Metadata.Uid != failed.Metadata.Uid && again.Status?.Phase == "Running", "web-1 made again after it failed");

        await ns.KubectlAsync("scale", "statefulset", "web", "--replicas=1");
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Select(p => p.Metadata.Name).SequenceEqual(["web-0"]), "only web-0 left");
        string events = await ns.KubectlAsync("get", "events", "--field-selector", "involvedObject.name=web", "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}");
        Assert.Contains("delete Pod web-2 in StatefulSet web successful", events, StringComparison.Ordinal);
        Assert.Contains("delete Pod web-1 in StatefulSet web successful", events, StringComparison.Ordinal);
        var scale = await Client.AppsV1.ReadNamespacedStatefulSetScaleAsync("web", ns.Name);
        Assert.Equal(1, scale.Spec.Replicas);
    }

    [Fact]
    public async Task A_rolling_update_with_a_partition_updates_only_the_ordinals_at_or_above_it_and_keeps_revisions()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "sts-partition");
        await ns.ApplyAsync(Web(3, extraSpec: "  updateStrategy:\n    rollingUpdate:\n      partition: 2"));
        await ns.KubectlAsync("rollout", "status", "statefulset/web", "--timeout=60s");
        string first = (await Client.AppsV1.ReadNamespacedStatefulSetAsync("web", ns.Name)).Status.UpdateRevision;

        await ns.KubectlAsync("set", "image", "statefulset/web", "nginx=nginx:1.27");
        string partitioned = await ns.KubectlAsync("rollout", "status", "statefulset/web", "--timeout=60s");
        Assert.Contains("partitioned roll out complete: 1 new pods have been updated", partitioned, StringComparison.Ordinal);
        var set = await Client.AppsV1.ReadNamespacedStatefulSetAsync("web", ns.Name);
        var images = (await ns.PodsAsync()).ToDictionary(p => p.Metadata.Name, p => p.Spec.Containers.Single().Image);
        Assert.Equal(new Dictionary<string, string> { ["web-0"] = "nginx", ["web-1"] = "nginx", ["web-2"] = "nginx:1.27" }, images);
        Assert.Equal(first, set.Status.CurrentRevision);
        Assert.NotEqual(first, set.Status.UpdateRevision);

        await ns.KubectlAsync("patch", "statefulset", "web", "-p", """{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}""");
        string done = await ns.KubectlAsync("rollout", "status", "statefulset/web", "--timeout=60s");
        Assert.Contains("partitioned roll out complete: 3 new pods have been updated...", done, StringComparison.Ordinal);
        await Eventually.WaitAsync(async () => (await Client.AppsV1.ReadNamespacedStatefulSetAsync("web", ns.Name)).Status is { } st
            && st.CurrentRevision == set.Status.UpdateRevision && st.CurrentReplicas == 3, "the update revision become the current one");
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).All(p => p.Spec.Containers.Single().Image == "nginx:1.27"), "every pod on nginx:1.27");

        var revisions = (await Client.AppsV1.ListNamespacedControllerRevisionAsync(ns.Name)).Items;
        Assert.Equal([1L, 2L], revisions.Select(r => r.Revision ?? 0).Order());
        string history = await ns.KubectlAsync("rollout", "history", "statefulset/web");
        Assert.Matches(@"REVISION\s+CHANGE-CAUSE\s*\n1\s+<none>\s*\n2\s+<none>", history);
        string table = await ns.KubectlAsync("get", "controllerrevisions");
        Assert.Matches($@"NAME\s+CONTROLLER\s+REVISION\s+AGE\s*\n{first}\s+statefulset.apps/web\s+1\s", table);

        // Undo goes back to revision 1's template, renumbered 3: no twin revision is made.
        await ns.KubectlAsync("rollout", "undo", "statefulset/web");
        await ns.KubectlAsync("rollout", "status", "statefulset/web", "--timeout=60s");
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).All(p => p.Spec.Containers.Single().Image == "nginx"), "every pod back on nginx");
        revisions = (await Client.AppsV1.ListNamespacedControllerRevisionAsync(ns.Name)).Items;
        Assert.Equal(3, revisions.Single(r => r.Metadata.Name == first).Revision);
        Assert.Equal(2, revisions.Count);
    }

    [Fact]
    public async Task OnDelete_changes_a_pod_only_when_the_user_deletes_it()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "sts-ondelete");
        await ns.ApplyAsync(Web(2, extraSpec: "  updateStrategy:\n    type: OnDelete"));
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count(p => p.Status?.Phase == "Running") == 2, "two running pods");

        await ns.KubectlAsync("set", "image", "statefulset/web", "nginx=nginx:1.27");
        await Eventually.WaitAsync(async () => (await Client.AppsV1.ReadNamespacedStatefulSetAsync("web", ns.Name)) is { } s
            && s.Status?.ObservedGeneration == s.Metadata.Generation && s.Status?.UpdatedReplicas is null or 0, "the new revision observed, no pod on it");
        Assert.All(await ns.PodsAsync(), p => Assert.Equal("nginx", p.Spec.Containers.Single().Image));

        await ns.KubectlAsync("delete", "pod", "web-1", "--wait=false");
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).SingleOrDefault(p => p.Metadata.Name == "web-1")?.Spec.Containers.Single().Image == "nginx:1.27", "web-1 made again from the new template");
        Assert.Equal("nginx", (await ns.PodsAsync()).Single(p => p.Metadata.Name == "web-0").Spec.Containers.Single().Image);
    }

    [Fact]
    public async Task Volume_claim_templates_are_refused_naming_the_field()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "sts-pvc");
        using var dir = new TempDirectory();
        string file = dir.File("sts.yaml");
        await File.WriteAllTextAsync(file, Web(1, extraSpec: """
              volumeClaimTemplates:
              - metadata:
                  name: data
                spec:
                  accessModes: ["ReadWriteOnce"]
                  resources:
                    requests:
                      storage: 1Gi
            """));
        var (code, _, stderr) = await ns.KubectlTryAsync("apply", "-f", file);
        Assert.NotEqual(0, code);
        Assert.Contains("The StatefulSet \"web\" is invalid: spec.volumeClaimTemplates: Forbidden: this cluster has no storage provisioner", stderr, StringComparison.Ordinal);
    }
}
