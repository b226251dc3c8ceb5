using k8s.Models;
using Switchboard.Node.Kubelet;

namespace Switchboard.Node.Tests.Kubelet;

public sealed class EnvTests
{
    [Fact]
    public void Expansion_replaces_defined_references_keeps_undefined_ones_and_unescapes_dollars()
    {
        string? Lookup(string name) => name == "A" ? "1" : null;
        Assert.Equal("x1y", EnvExpansion.Expand("x$(A)y", Lookup));
        Assert.Equal("$(B)", EnvExpansion.Expand("$(B)", Lookup));
        Assert.Equal("$(A)", EnvExpansion.Expand("$$(A)", Lookup));
        Assert.Equal("$$", EnvExpansion.Expand("$$$$", Lookup));
        Assert.Equal("cost $5", EnvExpansion.Expand("cost $5", Lookup));
    }

    [Fact]
    public void Service_variables_are_docker_link_style()
    {
        var env = ServiceEnv.Build(
        [
            new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "my-db" },
                Spec = new V1ServiceSpec
                {
                    ClusterIP = "10.96.4.5",
                    Ports = [new V1ServicePort { Name = "sql", Port = 5432 }, new V1ServicePort { Name = "dns-udp", Port = 53, Protocol = "UDP" }],
                },
            },
            new V1Service { Metadata = new V1ObjectMeta { Name = "headless" }, Spec = new V1ServiceSpec { ClusterIP = "None", Ports = [new V1ServicePort { Port = 80 }] } },
        ]);

        Assert.Equal("10.96.4.5", env["MY_DB_SERVICE_HOST"]);
        Assert.Equal("5432", env["MY_DB_SERVICE_PORT"]);
        Assert.Equal("5432", env["MY_DB_SERVICE_PORT_SQL"]);
        Assert.Equal("53", env["MY_DB_SERVICE_PORT_DNS_UDP"]);
        Assert.Equal("tcp://10.96.4.5:5432", env["MY_DB_PORT"]);
        Assert.Equal("udp://10.96.4.5:53", env["MY_DB_PORT_53_UDP"]);
        Assert.Equal("udp", env["MY_DB_PORT_53_UDP_PROTO"]);
        Assert.Equal("53", env["MY_DB_PORT_53_UDP_PORT"]);
        Assert.Equal("10.96.4.5", env["MY_DB_PORT_5432_TCP_ADDR"]);
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("HEADLESS", StringComparison.Ordinal));
    }

    [Fact]
    public void Backoff_durations_read_as_Go_prints_them()
    {
        Assert.Equal("10s", PodSyncer.GoDuration(TimeSpan.FromSeconds(10)));
        Assert.Equal("1m20s", PodSyncer.GoDuration(TimeSpan.FromSeconds(80)));
        Assert.Equal("5m0s", PodSyncer.GoDuration(TimeSpan.FromMinutes(5)));
    }
}
