using k8s;
using k8s.Models;
using Switchboard.Kube.Hosting;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Nodes;

/// <summary>
/// Many nodes against a real API server and the real controllers, with a short grace period and short tolerations:
/// node IPAM, the spread of one owner's pods, and a node that stops renewing its Lease (Ready=Unknown, tainted, its
/// endpoints not ready at once, its pods evicted after their toleration) and comes back (untainted, Ready).
/// </summary>
public sealed class NodeLifecycleTests : IAsyncLifetime
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);
    private readonly InProcessApiServer _server = new();
    private readonly List<FakeNode> _nodes = [];
    private ComponentTestHost? _controllers;

    private IKubernetes Client => _server.Client;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        for (int i = 0; i < 3; i++)
        {
            _nodes.Add(await FakeNode.StartAsync(Client, $"node-{i + 1}", subnet: i));
        }

        var options = new ControllerOptions { Workers = 2, NodeMonitorGracePeriod = Grace, NodeMonitorPeriod = TimeSpan.FromMilliseconds(500) };
        string kubeconfig = _server.KubeconfigPath;
        _controllers = await ComponentTestHost.StartAsync(services => services.AddKubeClient(kubeconfig).AddControllers(options));
        await _controllers.Get<ControllerManager>().WaitUntilReadyAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (_controllers is not null)
        {
            await _controllers.DisposeAsync();
        }

        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Nodes_without_a_pod_CIDR_get_distinct_free_ones_from_the_cluster_range()
    {
        foreach (string name in (string[])["joining-a", "joining-b"])
        {
            await Client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = name } });
        }

        string[] cidrs = new string[2];
        await Eventually.WaitAsync(async () =>
        {
            for (int i = 0; i < 2; i++)
            {
                var node = await Client.CoreV1.ReadNodeAsync(i == 0 ? "joining-a" : "joining-b");
                cidrs[i] = node.Spec?.PodCIDR ?? "";
            }

            return cidrs.All(c => c.Length > 0);
        }, "both joining nodes have a pod CIDR");

        // node-1..3 hold 10.244.0-2.0/24 already.
        Assert.Equal(["10.244.3.0/24", "10.244.4.0/24"], cidrs.Order(StringComparer.Ordinal));
        Assert.Equal([cidrs[0]], (await Client.CoreV1.ReadNodeAsync("joining-a")).Spec.PodCIDRs);
    }

    [Fact]
    public async Task A_new_pod_gets_the_default_not_ready_and_unreachable_tolerations_unless_it_has_its_own()
    {
        string ns = await NamespaceAsync("tol");
        var plain = await Client.CoreV1.CreateNamespacedPodAsync(Pod("plain", tolerations: null), ns);
        var own = await Client.CoreV1.CreateNamespacedPodAsync(Pod("own", [new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 7 }]), ns);

        Assert.Equal(
            [("node.kubernetes.io/not-ready", "Exists", "NoExecute", (long?)300), ("node.kubernetes.io/unreachable", "Exists", "NoExecute", 300)],
            plain.Spec.Tolerations.Select(t => (t.Key, t.OperatorProperty, t.Effect, t.TolerationSeconds)));
        Assert.Equal(
            [("node.kubernetes.io/unreachable", (long?)7), ("node.kubernetes.io/not-ready", 300)],
            own.Spec.Tolerations.Select(t => (t.Key, t.TolerationSeconds)));
    }

    [Fact]
    public async Task One_owners_pods_spread_over_the_nodes_even_when_one_node_holds_more_pods()
    {
        string ns = await NamespaceAsync("spread");
        for (int i = 0; i < 4; i++)
        {
            var loner = Pod($"loner-{i}", tolerations: null);
            loner.Spec.NodeName = "node-2";
            await Client.CoreV1.CreateNamespacedPodAsync(loner, ns);
        }

        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("backend", replicas: 3, tolerationSeconds: null), ns);
        await Eventually.WaitAsync(async () => (await BackendPodsAsync(ns)).Count(p => !string.IsNullOrEmpty(p.Spec.NodeName)) == 3, "three backend pods bound");
        Assert.Equal(["node-1", "node-2", "node-3"], (await BackendPodsAsync(ns)).Select(p => p.Spec.NodeName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_node_that_stops_renewing_its_Lease_goes_Unknown_loses_its_endpoints_has_its_pods_evicted_and_comes_back_untainted()
    {
        string ns = await NamespaceAsync("dies");
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("backend", replicas: 3, tolerationSeconds: 4), ns);
        await Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "backend" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "backend" }, Ports = [new V1ServicePort { Port = 80 }] },
        }, ns);
        await Eventually.WaitAsync(async () => (await ReadyEndpointsAsync(ns)).Count == 3, "three ready endpoints");
        var doomed = (await BackendPodsAsync(ns)).Single(p => p.Spec.NodeName == "node-3");

        _nodes[2].PauseHeartbeats();
        await Eventually.WaitAsync(async () =>
        {
            var node = await Client.CoreV1.ReadNodeAsync("node-3");
            return node.Status.Conditions.Any(c => c is { Type: "Ready", Status: "Unknown", Reason: "NodeStatusUnknown" })
                && node.Spec.Taints?.Any(t => t is { Key: "node.kubernetes.io/unreachable", Effect: "NoExecute" }) == true
                && node.Spec.Taints.Any(t => t is { Key: "node.kubernetes.io/unreachable", Effect: "NoSchedule" });
        }, "node-3 Ready=Unknown and tainted unreachable");
        await Eventually.WaitAsync(async () => !(await ReadyEndpointsAsync(ns)).Contains(doomed.Status.PodIP), "node-3's endpoint not ready");
        Assert.Equal("False", (await Client.CoreV1.ReadNamespacedPodAsync(doomed.Metadata.Name, ns)).Status.Conditions.Single(c => c.Type == "Ready").Status);

        // After its 4 s toleration the pod is deleted (Terminating: its node cannot confirm) and replaced on a live node.
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync(doomed.Metadata.Name, ns)).Metadata.DeletionTimestamp is not null, "node-3's pod evicted");
        await Eventually.WaitAsync(async () => (await ReadyEndpointsAsync(ns)).Count == 3, "three ready endpoints again");
        Assert.DoesNotContain((await BackendPodsAsync(ns)).Where(p => p.Metadata.DeletionTimestamp is null), p => p.Spec.NodeName == "node-3");
        Assert.Contains((await Client.CoreV1.ListNamespacedEventAsync(ns)).Items, e => e.Reason == "TaintManagerEviction" && e.InvolvedObject.Name == doomed.Metadata.Name);

        await _nodes[2].ResumeHeartbeatsAsync();
        await Eventually.WaitAsync(async () =>
        {
            var node = await Client.CoreV1.ReadNodeAsync("node-3");
            return node.Status.Conditions.Any(c => c is { Type: "Ready", Status: "True" }) && !(node.Spec.Taints ?? []).Any(t => t.Key.StartsWith("node.kubernetes.io/", StringComparison.Ordinal));
        }, "node-3 Ready and untainted");
        await Eventually.WaitAsync(async () => (await BackendPodsAsync(ns)).Count == 3, "the evicted pod gone once its node confirms");
    }

    private async Task<string> NamespaceAsync(string prefix)
    {
        string ns = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        return ns;
    }

    private async Task<IList<V1Pod>> BackendPodsAsync(string ns) => (await Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=backend")).Items;

    private async Task<List<string>> ReadyEndpointsAsync(string ns) =>
        [.. (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns, labelSelector: "kubernetes.io/service-name=backend")).Items
            .SelectMany(s => s.Endpoints ?? []).Where(e => e.Conditions?.Ready == true).SelectMany(e => e.Addresses)];

    private static V1Pod Pod(string name, IList<V1Toleration>? tolerations) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "nginx" }], Tolerations = tolerations },
    };

    private static V1Deployment Deployment(string name, int replicas, long? tolerationSeconds) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec
                {
                    Containers = [new V1Container { Name = "c", Image = "nginx" }],
                    Tolerations = tolerationSeconds is { } seconds
                        ? [new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = seconds }]
                        : null,
                },
            },
        },
    };
}
