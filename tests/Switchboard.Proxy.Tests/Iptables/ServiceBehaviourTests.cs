using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Conntrack;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Tests.Support;
using Switchboard.Testing;
using static Switchboard.Proxy.Tests.Support.LabServices;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Iptables;

/// <summary>kube-proxy's service behaviours, through real kernel rules in throwaway namespaces with real connections.</summary>
public sealed class ServiceBehaviourTests : IDisposable
{
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));

    [Fact]
    public async Task A_pod_reaching_its_own_service_is_answered_by_itself_through_hairpin()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 1);
        using var proxier = Proxier(new NetnsIptables(lab.Node));
        await proxier.SyncAsync(Desired(lab.EndpointIps), _deadline.Token);

        string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 5, from: lab.EndpointNames[0]);

        Assert.All(answers, answer => Assert.Equal(lab.EndpointNames[0], answer));
    }

    [Fact]
    public async Task ClientIP_session_affinity_pins_a_client_to_one_endpoint()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        using var proxier = Proxier(new NetnsIptables(lab.Node));
        await proxier.SyncAsync(Desired(lab.EndpointIps, s => s.Spec.SessionAffinity = "ClientIP"), _deadline.Token);

        string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 40);

        Assert.Single(answers.Distinct());
        Assert.Contains(answers[0], lab.EndpointNames);
    }

    [Fact]
    public async Task A_NodePort_answers_on_the_node_address()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 2);
        using var proxier = Proxier(new NetnsIptables(lab.Node));
        await proxier.SyncAsync(Desired(lab.EndpointIps, NodePort), _deadline.Token);

        string[] answers = await lab.ConnectAsync(ServiceNetworkLab.NodeIp, 30080, 20);

        Assert.All(answers, answer => Assert.Contains(answer, lab.EndpointNames));
    }

    [Fact]
    public async Task External_and_load_balancer_IPs_answer_and_load_balancer_source_ranges_admit_only_their_clients()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 2);
        using var proxier = Proxier(new NetnsIptables(lab.Node));

        await LoadBalancerSourceRangesAdmitOnlyTheirClientsAsync(lab, proxier, _deadline.Token);
    }

    [Fact]
    public async Task A_flushed_table_is_found_by_its_canary_and_repaired()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 1);
        using var proxier = Proxier(new NetnsIptables(lab.Node), canaryInterval: TimeSpan.Zero);
        var desired = Desired(lab.EndpointIps);
        await proxier.SyncAsync(desired, _deadline.Token);

        // What a firewall reload does: every rule and every non-built-in chain of nat gone.
        await IptablesAsync(lab, "-t", "nat", "-F");
        await IptablesAsync(lab, "-t", "nat", "-X");
        Assert.StartsWith("error", Assert.Single(await lab.ConnectAsync(ClusterIp, ServicePort, 1)), StringComparison.Ordinal);

        var repair = await proxier.SyncAsync(desired, _deadline.Token);

        Assert.True(repair.Full);
        Assert.Equal(lab.EndpointNames[0], Assert.Single(await lab.ConnectAsync(ClusterIp, ServicePort, 1)));
    }

    [Fact]
    public async Task A_restart_on_a_programmed_node_reads_the_rules_back_and_writes_nothing()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        var iptables = new NetnsIptables(lab.Node);
        // Every rule kind: affinity, NodePort, external IP, load-balancer IP with source ranges, Local policies, no endpoints.
        var desired = GoldenServices(lab.EndpointIps);
        using (var previous = Proxier(iptables))
        {
            await previous.SyncAsync(desired.Take(2).ToList(), _deadline.Token);
            // A partial sync inserts the other services' rules first: the kernel's order is not a fresh render's.
            await previous.SyncAsync(desired, _deadline.Token);
        }

        using var restarted = Proxier(iptables);
        var result = await restarted.SyncAsync(desired, _deadline.Token);

        Assert.True(result.Full);
        Assert.Equal(0, result.Bytes);
        string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 10);
        Assert.All(answers, answer => Assert.Contains(answer, lab.EndpointNames));

        // The restarted proxy knows what is programmed: its next change is a partial sync.
        var next = await restarted.SyncAsync(desired.Skip(1).ToList(), _deadline.Token);
        Assert.False(next.Full);
        Assert.Equal(1, next.ChangedServicePorts);
    }

    [Fact]
    public async Task UDP_flows_to_a_removed_endpoint_move_to_a_live_one()
    {
        const int SourcePort = 40053;
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 2);
        using var proxier = Proxier(new NetnsIptables(lab.Node));
        var cleaner = new UdpConntrackCleaner(lab.Node, NullLogger<UdpConntrackCleaner>.Instance);
        var before = Desired([lab.EndpointIps[0]], protocol: "UDP");
        await proxier.SyncAsync(before, _deadline.Token);
        Assert.All(await lab.SendUdpAsync(ClusterIp, ServicePort, SourcePort, 3), answer => Assert.Equal(lab.EndpointNames[0], answer));

        var after = Desired([lab.EndpointIps[1]], protocol: "UDP");
        await proxier.SyncAsync(after, _deadline.Token);
        await cleaner.DeleteAsync(UdpConntrackCleaner.StaleFlows(before, after), _deadline.Token);

        // The same client socket: without the cleanup its conntrack entry would still lead to the removed endpoint.
        Assert.All(await lab.SendUdpAsync(ClusterIp, ServicePort, SourcePort, 3), answer => Assert.Equal(lab.EndpointNames[1], answer));
    }

    public void Dispose() => _deadline.Dispose();

    private static void NodePort(V1Service service)
    {
        service.Spec.Type = "NodePort";
        service.Spec.Ports[0].NodePort = 30080;
    }

    // The lab's service with affinity and a NodePort, plus the golden files' kinds of services on addresses nobody uses.
    private static List<ServicePortState> GoldenServices(List<string> endpointIps)
    {
        var lb = LocalLoadBalancer("ns6", "svc6", "10.96.6.6", 30006, "192.0.2.6", "198.51.100.6", "203.0.113.0/25", "10.0.0.0/8");
        var local = InternalLocal("ns7", "svc7", "10.96.7.7");
        var empty = Service("ns3", "svc3", "10.96.3.3", Port(null, 53, "UDP", nodePort: 30053));
        empty.Spec.Type = "NodePort";
        return
        [
            .. Desired(endpointIps, s =>
            {
                NodePort(s);
                s.Spec.SessionAffinity = "ClientIP";
            }),
            .. ServicePortStates.From(lb, [Slice("ns6", "svc6", "p80", 80, Local("10.244.6.1"), Ready("10.244.6.2"))], NodeName),
            .. ServicePortStates.From(local, [Slice("ns7", "svc7", "p80", 80, Ready("10.244.7.1"), Local("10.244.7.2"))], NodeName),
            .. ServicePortStates.From(empty, [], NodeName),
        ];
    }

    private static async Task IptablesAsync(ServiceNetworkLab lab, params string[] args) =>
        (await ChildProcess.RunAsync("ip", ["netns", "exec", lab.Node, "iptables", "-w", .. args])).EnsureSuccess($"iptables {string.Join(' ', args)}");
}
