using k8s.Models;
using Switchboard.Node.Sandbox;

namespace Switchboard.Node.Tests.Sandbox;

public sealed class ResolvConfTests : IDisposable
{
    private readonly string _host = Path.GetTempFileName();

    public ResolvConfTests() =>
        File.WriteAllText(_host, "# host\nnameserver 192.0.2.1\nnameserver 192.0.2.2\nsearch old.example\nsearch corp.example. lab.example\noptions timeout:2 attempts:3\n");

    public void Dispose() => File.Delete(_host);

    [Fact]
    public void ClusterFirst_points_at_the_cluster_DNS_with_the_namespace_searches_then_the_hosts()
    {
        Assert.Equal(
            "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.96.0.10\noptions ndots:5\n",
            Build(Pod("shop", null)));
    }

    [Fact]
    public void Default_copies_the_hosts_servers_last_search_line_and_options()
    {
        Assert.Equal("search corp.example lab.example\nnameserver 192.0.2.1\nnameserver 192.0.2.2\noptions timeout:2 attempts:3\n", Build(Pod("shop", "Default")));
    }

    [Fact]
    public void ClusterFirst_with_host_network_is_Default_unless_ClusterFirstWithHostNet()
    {
        var pod = Pod("shop", null);
        pod.Spec.HostNetwork = true;
        Assert.StartsWith("search corp.example lab.example\nnameserver 192.0.2.1\n", Build(pod), StringComparison.Ordinal);
        pod.Spec.DnsPolicy = "ClusterFirstWithHostNet";
        Assert.StartsWith("search shop.svc.cluster.local", Build(pod), StringComparison.Ordinal);
    }

    [Fact]
    public void None_takes_only_dnsConfig_and_dnsConfig_merges_into_the_others()
    {
        var none = Pod("shop", "None");
        none.Spec.DnsConfig = new V1PodDNSConfig { Nameservers = ["1.1.1.1"], Searches = ["a.example"], Options = [new V1PodDNSConfigOption { Name = "edns0" }] };
        Assert.Equal("search a.example\nnameserver 1.1.1.1\noptions edns0\n", Build(none));

        var merged = Pod("shop", null);
        merged.Spec.DnsConfig = new V1PodDNSConfig
        {
            Nameservers = ["10.96.0.10", "1.1.1.1", "8.8.8.8", "9.9.9.9"],
            Searches = ["svc.cluster.local", "extra.example"],
            Options = [new V1PodDNSConfigOption { Name = "ndots", Value = "2" }, new V1PodDNSConfigOption { Name = "single-request" }],
        };
        Assert.Equal(
            "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example extra.example\n"
            + "nameserver 10.96.0.10\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:2 single-request\n",
            Build(merged));
    }

    private string Build(V1Pod pod) => ResolvConf.Build(pod, "10.96.0.10", "cluster.local", _host);

    private static V1Pod Pod(string ns, string? policy) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = ns },
        Spec = new V1PodSpec { DnsPolicy = policy, Containers = [] },
    };
}
