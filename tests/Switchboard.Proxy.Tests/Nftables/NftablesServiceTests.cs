using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Nftables;
using Switchboard.Proxy.Tests.Support;
using static Switchboard.Proxy.Tests.Support.LabServices;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Nftables;

/// <summary>
/// kube-proxy's service behaviours in nftables mode, through real kernel rules in throwaway namespaces with real
/// connections: hairpin, NodePorts, external and load-balancer IPs, loadBalancerSourceRanges, and the Local policies.
/// </summary>
public sealed class NftablesServiceTests : IDisposable
{
    // The lab's client (10.250.0.100) is outside this pod CIDR: a client from outside the cluster. Endpoints are in it.
    private const string EndpointsOnlyCidr = "10.250.0.0/28";

    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));

    [Fact]
    public async Task A_pod_reaching_its_own_service_is_answered_by_itself_through_hairpin()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 1);
        using var proxier = Proxier(lab);
        await proxier.SyncAsync(Desired(lab.EndpointIps), _deadline.Token);

        string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 5, from: lab.EndpointNames[0]);

        Assert.All(answers, answer => Assert.Equal(lab.EndpointNames[0], answer));
    }

    [Fact]
    public async Task A_NodePort_answers_on_the_node_address()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 2);
        using var proxier = Proxier(lab);
        await proxier.SyncAsync(Desired(lab.EndpointIps, s =>
        {
            s.Spec.Type = "NodePort";
            s.Spec.Ports[0].NodePort = 30080;
        }), _deadline.Token);

        string[] answers = await lab.ConnectAsync(ServiceNetworkLab.NodeIp, 30080, 20);

        Assert.All(answers, answer => Assert.Contains(answer, lab.EndpointNames));
        Assert.Equal(2, answers.Distinct().Count());
    }

    [Fact]
    public async Task External_and_load_balancer_IPs_answer_and_load_balancer_source_ranges_admit_only_their_clients()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 2);
        using var proxier = Proxier(lab);

        await LoadBalancerSourceRangesAdmitOnlyTheirClientsAsync(lab, proxier, _deadline.Token);
    }

    [Fact]
    public async Task External_traffic_policy_Local_sends_outside_clients_only_to_the_nodes_own_endpoints()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        using var proxier = Proxier(lab, EndpointsOnlyCidr);
        var service = Service("lab", "web", ClusterIp, Port("http", ServicePort, nodePort: 30080));
        LoadBalancer(service, sourceRange: null);
        service.Spec.ExternalTrafficPolicy = "Local";
        await proxier.SyncAsync(ServicePortStates.From(service, [LabSlice(Local(lab.EndpointIps[0]), Ready(lab.EndpointIps[1]), Ready(lab.EndpointIps[2]))], NodeName), _deadline.Token);

        Assert.All(await lab.ConnectAsync(ExternalIp, ServicePort, 20), answer => Assert.Equal(lab.EndpointNames[0], answer));
        Assert.All(await lab.ConnectAsync(ServiceNetworkLab.NodeIp, 30080, 20), answer => Assert.Equal(lab.EndpointNames[0], answer));
        // The cluster IP keeps the Cluster internal policy.
        Assert.Equal(3, (await lab.ConnectAsync(ClusterIp, ServicePort, 60)).Distinct().Count());

        // Without an endpoint on this node, clients from outside are dropped rather than sent elsewhere.
        var none = await proxier.SyncAsync(ServicePortStates.From(service, [LabSlice(Ready(lab.EndpointIps[1]), Ready(lab.EndpointIps[2]))], NodeName), _deadline.Token);
        Assert.False(none.Full);
        Assert.StartsWith("error", Assert.Single(await lab.ConnectAsync(ExternalIp, ServicePort, 1)), StringComparison.Ordinal);
        Assert.Contains(Assert.Single(await lab.ConnectAsync(ClusterIp, ServicePort, 1)), lab.EndpointNames.Skip(1));
    }

    [Fact]
    public async Task Internal_traffic_policy_Local_sends_cluster_IP_traffic_only_to_the_nodes_own_endpoints()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        using var proxier = Proxier(lab);
        var service = InternalLocal("lab", "web", ClusterIp);
        service.Spec.Ports = [Port("http", ServicePort)];
        await proxier.SyncAsync(ServicePortStates.From(service, [LabSlice(Ready(lab.EndpointIps[0]), Local(lab.EndpointIps[1]), Local(lab.EndpointIps[2]))], NodeName), _deadline.Token);

        string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 40);

        Assert.Equal([lab.EndpointNames[1], lab.EndpointNames[2]], answers.Distinct().Order(StringComparer.Ordinal));
    }

    public void Dispose() => _deadline.Dispose();

    private static NftablesProxier Proxier(ServiceNetworkLab lab, string clusterCidr = ServiceNetworkLab.PodCidr) =>
        new(lab.Node, clusterCidr, NullLogger<NftablesProxier>.Instance, TimeProvider.System);

    private static V1EndpointSlice LabSlice(params V1Endpoint[] endpoints) => Slice("lab", "web", "http", ServiceNetworkLab.EndpointPort, endpoints);
}
