using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Dns.Feed;
using Switchboard.Dns.Operations;
using Switchboard.Dns.Server;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Zones;
using Switchboard.Testing;

namespace Switchboard.Dns.Tests.Feed;

/// <summary>The index fed by informers from a real API server, asked by the real dig.</summary>
public sealed class ClusterDnsFeedTests(InProcessApiServer api) : IClassFixture<InProcessApiServer>, IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ClusterDnsIndex _index = new(new ClusterZoneOptions(), TimeProvider.System);
    private readonly DnsMetrics _metrics = new();
    private ClusterDnsFeed? _feed;
    private Task? _running;
    private DnsServer? _server;

    private IPEndPoint Server => _server!.EndPoint;

    public async Task InitializeAsync()
    {
        _server = DnsServer.Start(_index, new DnsServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), UdpSockets = 1 }, TimeProvider.System);
        _feed = new ClusterDnsFeed(api.Client, _index, PodRecordMode.Insecure, mirror: null, _metrics, TimeProvider.System, NullLoggerFactory.Instance);
        _running = _feed.RunAsync(_stop.Token);
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        await _feed.WaitForSyncAsync(deadline.Token);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running!;
        await _server!.DisposeAsync();
        _stop.Dispose();
    }

    [Fact]
    public async Task After_sync_the_kubernetes_service_is_answered_and_unknown_names_are_nxdomain_not_servfail()
    {
        Assert.True(_index.IsSynced);

        Assert.Equal(["10.96.0.1"], Dig.Lines(await Dig.RunAsync(Server, "kubernetes.default.svc.cluster.local", "+short")));
        Assert.Equal("NXDOMAIN", Dig.Status(await Dig.RunAsync(Server, "nothing.default.svc.cluster.local")));
    }

    [Fact]
    public async Task The_seed_backend_created_with_kubectl_is_answered_with_its_cluster_ip_and_gone_once_deleted()
    {
        await api.KubectlOkAsync("create", "namespace", "critical-app");
        await api.KubectlOkAsync("create", "-f", InProcessApiServer.ExampleFile("backend.yaml"), "--namespace", "critical-app");
        string clusterIp = (await api.KubectlOkAsync("-n", "critical-app", "get", "service", "backend", "-o", "jsonpath={.spec.clusterIP}")).Trim();
        const string Name = "backend.critical-app.svc.cluster.local";

        await Eventually.WaitAsync(async () => (await Dig.RunAsync(Server, Name, "+short")).Trim() == clusterIp, $"dig {Name} answering {clusterIp}");
        Assert.Equal([Name + "."], Dig.Lines(await Dig.RunAsync(Server, "-x", clusterIp, "+short")));

        await api.KubectlOkAsync("-n", "critical-app", "delete", "service", "backend");
        await Eventually.WaitAsync(async () => Dig.Status(await Dig.RunAsync(Server, Name)) == "NXDOMAIN", $"dig {Name} NXDOMAIN after the delete");
        Assert.True(_metrics.ProgrammingCount("service") >= 2, "programming latency recorded for the create and the delete");
    }

    [Fact]
    public async Task A_headless_service_answers_its_ready_endpoints_from_endpoint_slices()
    {
        await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "data" } });
        await api.Client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service { Metadata = new V1ObjectMeta { Name = "db" }, Spec = new V1ServiceSpec { ClusterIP = "None", Ports = [new V1ServicePort { Name = "pg", Port = 5432 }] } },
            "data");
        await api.Client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(
            new V1EndpointSlice
            {
                Metadata = new V1ObjectMeta { Name = "db-1", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "db" } },
                AddressType = "IPv4",
                Endpoints =
                [
                    new V1Endpoint { Addresses = ["10.244.0.5"], Hostname = "db-0", Conditions = new V1EndpointConditions { Ready = true } },
                    new V1Endpoint { Addresses = ["10.244.0.6"], Conditions = new V1EndpointConditions { Ready = false } },
                ],
                Ports = [new Discoveryv1EndpointPort { Name = "pg", Port = 5432, Protocol = "TCP" }],
            },
            "data");

        await Eventually.WaitAsync(async () => (await Dig.RunAsync(Server, "db.data.svc.cluster.local", "+short")).Trim() == "10.244.0.5", "the ready endpoint answered");
        Assert.Equal(["10.244.0.5"], Dig.Lines(await Dig.RunAsync(Server, "db-0.db.data.svc.cluster.local", "+short", "+tcp")));
        Assert.True(_metrics.ProgrammingCount("endpointslice") >= 1);
    }

    [Fact]
    public async Task In_verified_pod_mode_only_addresses_of_existing_pods_are_answered()
    {
        var index = new ClusterDnsIndex(new ClusterZoneOptions { Pods = PodRecordMode.Verified }, TimeProvider.System);
        var feed = new ClusterDnsFeed(api.Client, index, PodRecordMode.Verified, mirror: null, metrics: null, TimeProvider.System, NullLoggerFactory.Instance);
        using var stop = new CancellationTokenSource();
        Task running = feed.RunAsync(stop.Token);
        await using DnsServer server = DnsServer.Start(index, new DnsServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), UdpSockets = 1 }, TimeProvider.System);
        await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "pods" } });
        await api.Client.CoreV1.CreateNamespacedPodAsync(
            new V1Pod { Metadata = new V1ObjectMeta { Name = "web" }, Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "nginx" }] } },
            "pods");
        await api.Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch("""{"status":{"podIP":"10.244.7.7","podIPs":[{"ip":"10.244.7.7"}]}}""", V1Patch.PatchType.MergePatch), "web", "pods");

        await Eventually.WaitAsync(async () => (await Dig.RunAsync(server.EndPoint, "10-244-7-7.pods.pod.cluster.local", "+short")).Trim() == "10.244.7.7", "the pod's address answered");
        Assert.Equal("NXDOMAIN", Dig.Status(await Dig.RunAsync(server.EndPoint, "10-244-7-8.pods.pod.cluster.local")));

        await stop.CancelAsync();
        await running;
    }
}
