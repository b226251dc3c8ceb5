using Switchboard.Testing;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;

namespace Switchboard.Controllers.Tests.Endpoints;

[Collection(ClusterCollection.Name)]
public sealed class EndpointsTests
{
    private readonly ClusterFixture _cluster;

    public EndpointsTests(ClusterFixture cluster) => _cluster = cluster;

    [Fact]
    public async Task A_readiness_flip_moves_an_address_between_ready_and_not_ready_and_back()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "ready");
        await s.WaitForReadyPodsAsync(3);
        var pods = await s.PodsAsync();
        var ips = pods.Select(p => p.Status.PodIP).ToList();
        await s.WaitForAddressesAsync(ips, []);

        await _cluster.Node.SetReadyAsync(s.Namespace, pods[0].Metadata.Name, ready: false);
        await s.WaitForAddressesAsync(ips.Skip(1), [ips[0]]);
        string describe = await s.KubectlAsync("get", "endpoints", "backend", "-o", "jsonpath={.subsets[0].notReadyAddresses[0].targetRef.name}");
        Assert.Equal(pods[0].Metadata.Name, describe);

        await _cluster.Node.SetReadyAsync(s.Namespace, pods[0].Metadata.Name, ready: true);
        await s.WaitForAddressesAsync(ips, []);
    }

    [Fact]
    public async Task Endpoints_and_slices_carry_the_time_of_the_change_they_reflect()
    {
        string ns = await ServiceWithoutPodsAsync("timed");
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ListNamespacedEndpointsAsync(ns)).Items.Count == 1, "the service's first Endpoints");

        // A pod made Ready at a moment no other change has: that moment is what the next writes name.
        const string readyAt = "2031-02-03T04:05:06Z";
        await ReadyPodAsync(ns, "timed", "10.250.0.7", readyAt);

        await Eventually.WaitAsync(async () =>
            (await Client.CoreV1.ReadNamespacedEndpointsAsync("timed", ns)).Subsets?.SingleOrDefault()?.Addresses?.SingleOrDefault()?.Ip == "10.250.0.7"
            && (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items.SingleOrDefault()?.Endpoints?.SingleOrDefault()?.Conditions?.Ready == true,
            "the pod's address ready in the Endpoints and the slice");
        var endpoints = await Client.CoreV1.ReadNamespacedEndpointsAsync("timed", ns);
        var slice = (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items.Single();
        Assert.Equal(readyAt, endpoints.Metadata.Annotations["endpoints.kubernetes.io/last-change-trigger-time"]);
        Assert.Equal(readyAt, slice.Metadata.Annotations["endpoints.kubernetes.io/last-change-trigger-time"]);
    }

    [Fact]
    public async Task The_placeholder_slice_of_a_service_without_endpoints_becomes_its_first_real_slice()
    {
        string ns = await ServiceWithoutPodsAsync("later");
        await Eventually.WaitAsync(async () => (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items.Count == 1, "the service's placeholder slice");
        var placeholder = (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items.Single();
        Assert.Empty(placeholder.Endpoints ?? []);
        Assert.Null(placeholder.Ports);

        await ReadyPodAsync(ns, "later", "10.250.0.9", "2031-02-03T04:05:06Z");

        await Eventually.WaitAsync(async () => (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items.Any(x => x.Endpoints?.Count == 1), "the pod's endpoint in a slice");
        var slice = (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items.Single();
        Assert.Equal(placeholder.Metadata.Uid, slice.Metadata.Uid);
        Assert.Equal(80, slice.Ports.Single().Port);
        Assert.Equal("10.250.0.9", slice.Endpoints.Single().Addresses.Single());
    }

    [Fact]
    public async Task Named_target_ports_resolve_per_pod_and_headless_services_carry_hostnames()
    {
        string ns = await NamespaceAsync("named");
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web-0", Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1PodSpec
            {
                Hostname = "web-0",
                Subdomain = "web",
                Containers = [new V1Container { Name = "c", Image = "nginx", Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }] }],
            },
        };
        await Client.CoreV1.CreateNamespacedPodAsync(pod, ns);
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1ServiceSpec { ClusterIP = "None", Selector = new Dictionary<string, string> { ["app"] = "web" }, Ports = [new V1ServicePort { Name = "web", Port = 80, TargetPort = "http" }] },
        };
        await Client.CoreV1.CreateNamespacedServiceAsync(service, ns);

        V1Endpoints? ep = null;
        await Eventually.WaitAsync(async () =>
        {
            ep = (await Client.CoreV1.ListNamespacedEndpointsAsync(ns)).Items.SingleOrDefault(e => e.Metadata.Name == "web");
            return ep?.Subsets?.SingleOrDefault()?.Addresses?.Count == 1;
        }, "one ready address for the headless service");
        var subset = ep!.Subsets.Single();
        Assert.Equal(8080, subset.Ports.Single().Port);
        Assert.Equal("web", subset.Ports.Single().Name);
        Assert.Equal("web-0", subset.Addresses.Single().Hostname);
        Assert.Equal("node-1", subset.Addresses.Single().NodeName);
        Assert.True(ep.Metadata.Labels.ContainsKey("service.kubernetes.io/headless"));

        V1EndpointSlice? slice = null;
        await Eventually.WaitAsync(async () =>
        {
            var slices = (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns, labelSelector: "kubernetes.io/service-name=web")).Items;
            slice = slices.Count == 1 ? slices[0] : null;
            return slice?.Endpoints?.Count == 1;
        }, "one slice with the pod");
        Assert.Equal(8080, slice!.Ports.Single().Port);
        Assert.Equal("web-0", slice.Endpoints.Single().Hostname);
    }

    [Fact]
    public async Task PublishNotReadyAddresses_lists_unready_pods_as_ready_addresses()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "publish");
        await s.WaitForReadyPodsAsync(3);
        await s.KubectlAsync("patch", "service", "backend", "-p", "{\"spec\":{\"publishNotReadyAddresses\":true}}");
        var pods = await s.PodsAsync();

        await _cluster.Node.SetReadyAsync(s.Namespace, pods[0].Metadata.Name, ready: false);

        await Eventually.WaitAsync(async () =>
        {
            var pod = await Client.CoreV1.ReadNamespacedPodAsync(pods[0].Metadata.Name, s.Namespace);
            return pod.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "False");
        }, "pod marked not ready");
        await s.WaitForAddressesAsync(pods.Select(p => p.Status.PodIP), []);
    }

    [Fact]
    public async Task Services_without_a_selector_are_left_to_their_users_and_kubernetes_points_at_the_api_server()
    {
        string ns = await NamespaceAsync("manual");
        await Client.CoreV1.CreateNamespacedServiceAsync(new V1Service { Metadata = new V1ObjectMeta { Name = "external" }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] } }, ns);
        var manual = new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "external" },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "192.0.2.10" }], Ports = [new Corev1EndpointPort { Port = 80 }] }],
        };
        await Client.CoreV1.CreateNamespacedEndpointsAsync(manual, ns);

        // A selector service created afterwards gets endpoints: proof the controller has seen this namespace.
        await Client.CoreV1.CreateNamespacedServiceAsync(new V1Service { Metadata = new V1ObjectMeta { Name = "marker" }, Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["x"] = "y" }, Ports = [new V1ServicePort { Port = 80 }] } }, ns);
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ListNamespacedEndpointsAsync(ns)).Items.Any(e => e.Metadata.Name == "marker"), "endpoints for the marker service");

        var kept = await Client.CoreV1.ReadNamespacedEndpointsAsync("external", ns);
        Assert.Equal("192.0.2.10", kept.Subsets.Single().Addresses.Single().Ip);
        Assert.Empty((await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns, labelSelector: "kubernetes.io/service-name=external")).Items);

        var kubernetes = await Client.CoreV1.ReadNamespacedEndpointsAsync("kubernetes", "default");
        var address = kubernetes.Subsets.Single();
        Assert.Equal(_cluster.Server.Host.Url.Port, address.Ports.Single().Port);
        Assert.Equal(_cluster.Server.Host.Url.Host, address.Addresses.Single().Ip);
    }

    [Fact]
    public async Task More_than_one_hundred_endpoints_are_split_across_slices()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "split");
        await s.KubectlAsync("scale", "deployment", "backend", "--replicas=105");
        await s.WaitForReadyPodsAsync(105);

        await Eventually.WaitAsync(async () => (await s.SlicesAsync()).Sum(x => x.Endpoints?.Count(e => e.Conditions.Ready == true) ?? 0) == 105, "105 ready endpoints across slices");
        var slices = await s.SlicesAsync();
        Assert.Equal(2, slices.Count);
        Assert.All(slices, x => Assert.True(x.Endpoints.Count <= 100, $"{x.Metadata.Name} holds {x.Endpoints.Count}"));
        Assert.Equal(105, slices.SelectMany(x => x.Endpoints).Select(e => e.Addresses.Single()).Distinct().Count());
    }

    private IKubernetes Client => _cluster.Client;

    /// <summary>A namespace named after the service, and the service (port 80, selecting app=NAME) without pods.</summary>
    private async Task<string> ServiceWithoutPodsAsync(string name)
    {
        string ns = await NamespaceAsync(name);
        await Client.CoreV1.CreateNamespacedServiceAsync(new V1Service { Metadata = new V1ObjectMeta { Name = name }, Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = name }, Ports = [new V1ServicePort { Port = 80 }] } }, ns);
        return ns;
    }

    /// <summary>Pod NAME-0 of the service, on no real node, made Running and Ready with <paramref name="ip"/> at <paramref name="readyAt"/>.</summary>
    private async Task ReadyPodAsync(string ns, string service, string ip, string readyAt)
    {
        string name = service + "-0";
        await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = service } }, Spec = new V1PodSpec { NodeName = "elsewhere", Containers = [new V1Container { Name = "c", Image = "nginx" }] } }, ns);
        string status = $$$"""{"status":{"phase":"Running","podIP":"{{{ip}}}","podIPs":[{"ip":"{{{ip}}}"}],"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"{{{readyAt}}}"}]}}""";
        await Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(status, V1Patch.PatchType.MergePatch), name, ns);
    }

    private async Task<string> NamespaceAsync(string prefix)
    {
        string ns = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        return ns;
    }
}
