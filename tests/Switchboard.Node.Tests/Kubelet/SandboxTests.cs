using k8s;
using k8s.Models;
using Switchboard.Node.Network;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>What a pod's containers see: kubelet's resolv.conf, hosts and hostname; their own filesystem; their environment; their network links.</summary>
[Collection(NodeCollection.Name)]
public sealed class SandboxTests(NodeFixture fixture)
{
    [Fact]
    public async Task Pod_sees_kubelets_resolv_conf_hosts_and_hostname_and_its_environment()
    {
        const string ns = "t-sandbox";
        await fixture.CreateNamespaceAsync(ns);
        await fixture.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "backend" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80, Name = "http" }] },
        }, ns);
        await fixture.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "settings" },
            Data = new Dictionary<string, string> { ["color"] = "blue", ["size"] = "10" },
        }, ns);
        var spec = NodeFixture.ShellPod("client", "sh", "-c", "env > /tmp/env; exec sleep infinity");
        spec.Spec.Subdomain = "clients";
        spec.Spec.Containers[0].Env =
        [
            new V1EnvVar { Name = "GREETING", Value = "hello $(BACKEND_SERVICE_HOST) $$(KEEP)" },
            new V1EnvVar { Name = "MY_POD", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } },
            new V1EnvVar { Name = "COLOR", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "settings", Key = "color" } } },
        ];
        spec.Spec.Containers[0].EnvFrom = [new V1EnvFromSource { Prefix = "CFG_", ConfigMapRef = new V1ConfigMapEnvSource { Name = "settings" } }];
        var pod = await fixture.RunPodAsync(ns, spec);
        var service = await fixture.Client.CoreV1.ReadNamespacedServiceAsync("backend", ns);
        string ip = pod.Status.PodIP;

        Assert.Equal(
            $"search {ns}.svc.cluster.local svc.cluster.local cluster.local example.org\nnameserver 10.96.0.10\noptions ndots:5\n",
            await CatAsync(ns, "client", "/etc/resolv.conf"));
        string hosts = await CatAsync(ns, "client", "/etc/hosts");
        Assert.StartsWith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n", hosts, StringComparison.Ordinal);
        Assert.EndsWith($"\n{ip}\tclient.clients.{ns}.svc.cluster.local\tclient\n", hosts, StringComparison.Ordinal);
        Assert.Equal("client\n", (await fixture.ExecAsync(ns, "client", "hostname")).Stdout);

        var env = (await CatAsync(ns, "client", "/tmp/env")).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        string clusterIp = service.Spec.ClusterIP;
        Assert.Contains($"GREETING=hello {clusterIp} $(KEEP)", env);
        Assert.Contains("MY_POD=client", env);
        Assert.Contains("COLOR=blue", env);
        Assert.Contains("CFG_size=10", env);
        Assert.Contains($"BACKEND_SERVICE_HOST={clusterIp}", env);
        Assert.Contains("BACKEND_SERVICE_PORT=80", env);
        Assert.Contains("BACKEND_SERVICE_PORT_HTTP=80", env);
        Assert.Contains($"BACKEND_PORT=tcp://{clusterIp}:80", env);
        Assert.Contains($"BACKEND_PORT_80_TCP_ADDR={clusterIp}", env);
        Assert.Contains("HOSTNAME=client", env);
    }

    [Fact]
    public async Task A_file_written_in_one_pod_is_seen_neither_by_another_pod_nor_by_the_host()
    {
        const string ns = "t-files";
        await fixture.CreateNamespaceAsync(ns);
        await Task.WhenAll(
            fixture.RunPodAsync(ns, NodeFixture.ShellPod("writer", "sleep", "infinity")),
            fixture.RunPodAsync(ns, NodeFixture.ShellPod("reader", "sleep", "infinity")));
        string name = "sb-isolation-" + Guid.NewGuid().ToString("n")[..8];

        var written = await fixture.ExecAsync(ns, "writer", "sh", "-c", $"echo secret > /tmp/{name} && echo secret > /usr/{name} && cat /tmp/{name}");
        Assert.True(written.ExitCode == 0, written.Stderr);
        Assert.Equal("secret\n", written.Stdout);

        Assert.NotEqual(0, (await fixture.ExecAsync(ns, "reader", "test", "-e", $"/tmp/{name}")).ExitCode);
        Assert.NotEqual(0, (await fixture.ExecAsync(ns, "reader", "test", "-e", $"/usr/{name}")).ExitCode);
        Assert.False(File.Exists($"/tmp/{name}"), "the host does not see the pod's /tmp file");
        Assert.False(File.Exists($"/usr/{name}"), "the host does not see the pod's /usr file");
    }

    [Fact]
    public async Task A_pods_links_are_a_hairpin_bridge_port_and_eth0_with_its_address_and_routes_via_the_gateway()
    {
        const string ns = "t-links";
        await fixture.CreateNamespaceAsync(ns);
        var pod = await fixture.RunPodAsync(ns, NodeFixture.ShellPod("links", "sleep", "infinity"));
        string nodeNs = $"{fixture.NamespacePrefix}{fixture.Options.NodeName}";
        string gateway = (await ChildProcess.RunAsync("ip", ["-n", nodeNs, "-4", "-o", "addr", "show", "dev", NetworkNames.Bridge])).EnsureSuccess("ip addr").Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3].Split('/')[0];

        // The node's side: the veth on the bridge, up, with hairpin on (pod → ClusterIP → the same pod).
        string port = (await ChildProcess.RunAsync("bridge", ["-n", nodeNs, "-d", "link", "show", "dev", NetworkNames.Veth(pod.Metadata.Uid)])).EnsureSuccess("bridge link").Stdout;
        Assert.Contains($"master {NetworkNames.Bridge}", port);
        Assert.Contains("state forwarding", port);
        Assert.Contains("hairpin on", port);

        // The pod's side: lo and eth0 up, the pod's IP on eth0 with the CIDR's prefix, routes via the bridge's address.
        var links = await fixture.ExecAsync(ns, "links", "ip", "-br", "link");
        Assert.Matches(@"(?m)^lo\s+UNKNOWN", links.Stdout);
        Assert.Matches(@"(?m)^eth0@\S+\s+UP", links.Stdout);
        var address = await fixture.ExecAsync(ns, "links", "ip", "-4", "-o", "addr", "show", "dev", "eth0");
        Assert.Contains($"inet {pod.Status.PodIP}/24 ", address.Stdout);
        var routes = (await fixture.ExecAsync(ns, "links", "ip", "route")).Stdout;
        Assert.Contains($"default via {gateway} dev eth0", routes);
        Assert.Contains($"{fixture.Options.ServiceCidr} via {gateway} dev eth0", routes);
    }

    private async Task<string> CatAsync(string ns, string pod, string path)
    {
        var (code, stdout, stderr) = await fixture.ExecAsync(ns, pod, "cat", path);
        Assert.True(code == 0, $"cat {path}: {stderr}");
        return stdout;
    }
}
