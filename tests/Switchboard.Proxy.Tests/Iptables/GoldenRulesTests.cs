using k8s.Models;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Tests.Support;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Iptables;

public sealed class GoldenRulesTests : IDisposable
{
    private readonly IptablesRuleSet _rules = new(new IptablesOptions { ClusterCidr = "10.244.0.0/16" });

    [Fact]
    public void Full_sync_renders_kube_proxy_layout()
    {
        // A kernel a previous run left: a stale endpoint chain, a wanted chain with other rules, and one built-in jump.
        var kernel = SavedRules.Parse("""
            *nat
            :PREROUTING ACCEPT [0:0]
            :KUBE-SEP-LEFTOVER0000000 - [0:0]
            :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
            :KUBE-MARK-MASQ - [0:0]
            -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            COMMIT
            """);
        _rules.Render(Desired(Initial()), kernel);

        GoldenFile.AssertMatches("full-sync.rules", _rules.Document.ToString());
        Assert.Equal(7, _rules.ChangedServicePorts);
    }

    [Fact]
    public void Partial_sync_rewrites_only_changed_service_ports_and_deletes_their_stale_chains()
    {
        ProgramInitial();

        var changed = Initial();
        // svc2 goes from 3 endpoints to 1; svc3 gets its first endpoint; svc4 is deleted; svc5 is new; svc1 is untouched;
        // svc7 (internalTrafficPolicy Local) gets an endpoint on this node, so its DROP gives way to KUBE-SVL.
        changed[1] = (changed[1].Service, [Slice("ns2", "svc2", "http", 8080, Ready("10.180.0.21"))]);
        changed[2] = (changed[2].Service, [Slice("ns3", "svc3", null, 5353, "UDP", Ready("10.180.0.31"))]);
        changed[3] = (Service("ns5", "svc5", "172.30.0.45", Port("p80", 80)), [Slice("ns5", "svc5", "p80", 80, Ready("10.180.0.51"))]);
        changed[5] = (changed[5].Service, [Slice("ns7", "svc7", "p80", 80, Ready("10.180.0.71"), Local("10.180.0.72"))]);
        _rules.Render(Desired(changed), null);

        GoldenFile.AssertMatches("partial-sync.rules", _rules.Document.ToString());
        Assert.Equal(5, _rules.ChangedServicePorts);
    }

    [Fact]
    public void Sync_without_changes_writes_empty_tables()
    {
        ProgramInitial();
        _rules.Render(Desired(Initial()), null);

        Assert.Equal("*filter\nCOMMIT\n*nat\nCOMMIT\n", _rules.Document.ToString());
        Assert.Equal(0, _rules.ChangedServicePorts);
        Assert.False(_rules.HasChanges);
    }

    [Fact]
    public void A_failed_apply_makes_the_next_sync_full()
    {
        ProgramInitial();
        _rules.Render(Desired(Initial()), null);
        _rules.Failed();
        _rules.Render(Desired(Initial()), null);

        Assert.True(_rules.NeedsFullSync);
        Assert.Equal(7, _rules.ChangedServicePorts);
        Assert.StartsWith("*mangle\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n*filter\n:KUBE-SERVICES - [0:0]\n", _rules.Document.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => _rules.Dispose();

    // A first full sync of the fixed set, applied: what later syncs start from.
    private void ProgramInitial()
    {
        _rules.Render(Desired(Initial()), null);
        _rules.Applied();
    }

    private static List<ServicePortState> Desired(IEnumerable<(V1Service Service, V1EndpointSlice[] Slices)> objects) =>
        [.. objects.SelectMany(o => ServicePortStates.From(o.Service, o.Slices, NodeName))];

    private static List<(V1Service Service, V1EndpointSlice[] Slices)> Initial()
    {
        // kube-proxy's chain-name vectors: ns1/svc1:p80 with the endpoint 10.180.0.1:80.
        var svc1 = Service("ns1", "svc1", "172.30.0.41", Port("p80", 80));
        var svc2 = NodePortService("ns2", "svc2", "172.30.0.42", Port("http", 8080, nodePort: 30080));
        svc2.Spec.SessionAffinity = "ClientIP";
        svc2.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = 600 } };
        var svc3 = NodePortService("ns3", "svc3", "172.30.0.43", Port(null, 53, "UDP", nodePort: 30053));
        var svc4 = Service("ns4", "svc4", "172.30.0.44", Port("p80", 80));
        // A LoadBalancer with an external IP, externalTrafficPolicy Local, one endpoint here and one elsewhere, and
        // loadBalancerSourceRanges.
        var svc6 = LocalLoadBalancer("ns6", "svc6", "172.30.0.46", 30006, "192.0.2.6", "198.51.100.6", "203.0.113.0/25", "10.0.0.0/8");
        // internalTrafficPolicy Local: svc7 has endpoints only on other nodes, svc8 one here too.
        var svc7 = InternalLocal("ns7", "svc7", "172.30.0.47");
        var svc8 = InternalLocal("ns8", "svc8", "172.30.0.48");
        return
        [
            (svc1, [Slice("ns1", "svc1", "p80", 80, Ready("10.180.0.1"))]),
            (svc2, [Slice("ns2", "svc2", "http", 8080, Ready("10.180.0.21"), Ready("10.180.0.22"), Ready("10.180.0.23"))]),
            (svc3, []),
            (svc4, [Slice("ns4", "svc4", "p80", 80,
                Endpoint("10.180.0.41", ready: false, serving: true, terminating: true),
                Endpoint("10.180.0.42", ready: false, serving: false, terminating: true))]),
            (svc6, [Slice("ns6", "svc6", "p80", 80, Local("10.180.0.61"), Ready("10.180.0.62"))]),
            (svc7, [Slice("ns7", "svc7", "p80", 80, Ready("10.180.0.71"))]),
            (svc8, [Slice("ns8", "svc8", "p80", 80, Ready("10.180.0.81"), Local("10.180.0.82"))]),
        ];
    }
}
