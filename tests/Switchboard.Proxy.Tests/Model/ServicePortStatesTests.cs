using k8s.Models;
using Switchboard.Proxy.Model;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Model;

public sealed class ServicePortStatesTests
{
    [Fact]
    public void Uses_ready_endpoints_sorted_and_ignores_terminating_ones_while_any_is_ready()
    {
        var service = Service("ns", "web", "10.96.0.20", Port("http", 80));
        var slice = Slice("ns", "web", "http", 8080,
            Ready("10.244.0.9"),
            Endpoint("10.244.0.7", ready: false, serving: true, terminating: true),
            Ready("10.244.0.3"),
            Endpoint("10.244.0.5", ready: false, serving: false, terminating: false));

        var port = Assert.Single(ServicePortStates.From(service, [slice]));

        Assert.Equal("ns/web:http", port.Name);
        Assert.Equal(["10.244.0.3:8080", "10.244.0.9:8080"], port.Endpoints.Select(e => e.Address));
    }

    [Fact]
    public void Falls_back_to_serving_terminating_endpoints_when_none_is_ready()
    {
        var service = Service("ns", "web", "10.96.0.20", Port(null, 80));
        var slice = Slice("ns", "web", null, 8080,
            Endpoint("10.244.0.7", ready: false, serving: true, terminating: true),
            Endpoint("10.244.0.8", ready: false, serving: false, terminating: true));

        var port = Assert.Single(ServicePortStates.From(service, [slice]));

        Assert.Equal("ns/web", port.Name);
        Assert.Equal(["10.244.0.7:8080"], port.Endpoints.Select(e => e.Address));
    }

    [Fact]
    public void Endpoints_listed_in_two_slices_are_used_once_and_ports_match_by_name()
    {
        var service = Service("ns", "web", "10.96.0.20", Port("http", 80), Port("metrics", 9090));
        V1EndpointSlice[] slices =
        [
            Slice("ns", "web", "http", 8080, Ready("10.244.0.3")),
            Slice("ns", "web", "http", 8080, Ready("10.244.0.3"), Ready("10.244.0.4")),
            Slice("ns", "web", "metrics", 9100, Ready("10.244.0.3")),
        ];

        var ports = ServicePortStates.From(service, slices);

        Assert.Equal(["10.244.0.3:8080", "10.244.0.4:8080"], ports[0].Endpoints.Select(e => e.Address));
        Assert.Equal(["10.244.0.3:9100"], ports[1].Endpoints.Select(e => e.Address));
    }

    [Fact]
    public void ClientIP_affinity_defaults_to_three_hours_and_takes_the_service_timeout()
    {
        var service = Service("ns", "web", "10.96.0.20", Port("http", 80));
        service.Spec.SessionAffinity = "ClientIP";
        Assert.Equal(10800, ServicePortStates.From(service, [])[0].AffinitySeconds);

        service.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = 60 } };
        Assert.Equal(60, ServicePortStates.From(service, [])[0].AffinitySeconds);
    }

    [Theory]
    [InlineData("None")]
    [InlineData("")]
    [InlineData("fd00::10")]
    public void Headless_and_non_IPv4_services_have_no_ports_to_program(string clusterIp) =>
        Assert.Empty(ServicePortStates.From(Service("ns", "web", clusterIp, Port("http", 80)), []));

    [Fact]
    public void States_compare_by_value_so_a_sync_sees_only_real_changes()
    {
        var service = Service("ns", "web", "10.96.0.20", Port("http", 80));
        var a = ServicePortStates.From(service, [Slice("ns", "web", "http", 8080, Ready("10.244.0.3"))])[0];
        var same = ServicePortStates.From(service, [Slice("ns", "web", "http", 8080, Ready("10.244.0.3"))])[0];
        var moved = ServicePortStates.From(service, [Slice("ns", "web", "http", 8080, Ready("10.244.0.4"))])[0];

        Assert.Equal(a, same);
        Assert.NotEqual(a, moved);
        Assert.True(a.SameEntryRules(moved));
    }

    [Fact]
    public void Local_policies_use_this_nodes_endpoints_ready_first_then_serving_terminating()
    {
        var service = Service("ns", "web", "10.96.0.20", Port("http", 80, nodePort: 30080));
        service.Spec.Type = "LoadBalancer";
        service.Spec.InternalTrafficPolicy = "Local";
        service.Spec.ExternalTrafficPolicy = "Local";
        service.Spec.ExternalIPs = ["192.0.2.1", "fd00::1"];
        service.Status = new V1ServiceStatus
        {
            LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = "198.51.100.1" }, new V1LoadBalancerIngress { Ip = "198.51.100.2", IpMode = "Proxy" }] },
        };
        var terminatingHere = Endpoint("10.244.0.7", ready: false, serving: true, terminating: true);
        terminatingHere.NodeName = NodeName;
        var slice = Slice("ns", "web", "http", 8080, Ready("10.244.1.3"), terminatingHere);

        var port = Assert.Single(ServicePortStates.From(service, [slice], NodeName));

        Assert.Equal(["10.244.1.3:8080"], port.Endpoints.Select(e => e.Address));
        Assert.Equal(["10.244.0.7:8080"], port.LocalEndpoints.Select(e => e.Address));
        Assert.True(port.InternalPolicyLocal);
        Assert.True(port.ExternalPolicyLocal);
        Assert.Equal(["192.0.2.1"], port.ExternalIps.AsEnumerable());
        Assert.Equal(["198.51.100.1"], port.LoadBalancerIps.AsEnumerable());
        Assert.StartsWith("KUBE-SVL-", port.LocalChain, StringComparison.Ordinal);
    }

    [Fact]
    public void External_policy_Local_means_nothing_without_external_access_and_ClusterIP_services_have_no_NodePort()
    {
        var service = Service("ns", "web", "10.96.0.20", Port("http", 80, nodePort: 30080));
        service.Spec.ExternalTrafficPolicy = "Local";

        var port = Assert.Single(ServicePortStates.From(service, [], NodeName));

        Assert.Equal(0, port.NodePort);
        Assert.False(port.ExternalPolicyLocal);
    }

    [Fact]
    public void Load_balancer_source_ranges_are_kept_as_IPv4_CIDRs_of_a_service_with_load_balancer_IPs()
    {
        var service = LocalLoadBalancer("ns", "lb", "10.96.0.30", 30081, "192.0.2.3", "198.51.100.3");
        service.Spec.LoadBalancerSourceRanges = [" 203.0.113.0/24", "2001:db8::/32", "10.0.0.0/8", "203.0.113.0/24"];

        var port = Assert.Single(ServicePortStates.From(service, [], NodeName));
        service.Status = null;
        var withoutIngress = Assert.Single(ServicePortStates.From(service, [], NodeName));

        Assert.Equal(["203.0.113.0/24", "10.0.0.0/8"], port.LoadBalancerSourceRanges.AsEnumerable());
        Assert.Empty(withoutIngress.LoadBalancerSourceRanges);
        Assert.False(port.Equals(withoutIngress));
    }
}
