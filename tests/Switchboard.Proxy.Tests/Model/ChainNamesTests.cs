using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Tests.Model;

public sealed class ChainNamesTests
{
    // The vectors of kube-proxy's own tests (pkg/proxy/iptables/proxier_test.go).
    [Fact]
    public void Service_port_chain_matches_kube_proxy() =>
        Assert.Equal("KUBE-SVC-XPGD46QRK7WJZT7O", ChainNames.ServicePort("ns1/svc1:p80", "tcp"));

    [Fact]
    public void Endpoint_chain_matches_kube_proxy() =>
        Assert.Equal("KUBE-SEP-SXIVWICOYRO3J4NJ", ChainNames.Endpoint("ns1/svc1:p80", "tcp", "10.180.0.1:80"));

    [Fact]
    public void External_chain_shares_the_service_port_hash() =>
        Assert.Equal("KUBE-EXT-XPGD46QRK7WJZT7O", ChainNames.External("ns1/svc1:p80", "tcp"));

    [Fact]
    public void Firewall_chain_matches_kube_proxy() =>
        Assert.Equal("KUBE-FW-NUKIZ6OKUXPJNT4C", ChainNames.Firewall("ns5/svc5:p80", "tcp"));

    [Fact]
    public void Names_fit_iptables_28_character_limit_and_differ_by_protocol()
    {
        string tcp = ChainNames.ServicePort("a-long-namespace-name/a-long-service-name:https", "tcp");
        string udp = ChainNames.ServicePort("a-long-namespace-name/a-long-service-name:https", "udp");
        Assert.True(tcp.Length <= 28, tcp);
        Assert.NotEqual(tcp, udp);
    }
}
