using System.Net;
using k8s;
using k8s.Models;
using Switchboard.Node.Network;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Kubelet;

[Collection(NodeCollection.Name)]
public sealed class PodLifecycleTests(NodeFixture fixture)
{
    [Fact]
    public async Task Backend_pods_run_ready_with_IPs_in_the_node_CIDR_and_answer_each_other_by_IP()
    {
        string ns = "t-backend";
        await fixture.CreateNamespaceAsync(ns);
        await fixture.Server.KubectlOkAsync("create", "-n", ns, "-f", InProcessApiServer.ExampleFile("backend.yaml"));

        var node = await fixture.Client.CoreV1.ReadNodeAsync(fixture.Options.NodeName);
        var cidr = PodCidr.Parse(node.Spec.PodCIDR);
        IList<V1Pod> pods = [];
        await Eventually.WaitAsync(async () =>
        {
            pods = (await fixture.Client.CoreV1.ListNamespacedPodAsync(ns)).Items;
            return pods.Count == 3 && pods.All(p => p.Status?.Phase == "Running" && p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        }, "3 backend pods Running and Ready", TimeSpan.FromSeconds(90));

        var ips = pods.Select(p => IPAddress.Parse(p.Status.PodIP)).ToList();
        Assert.All(ips, ip => Assert.True(cidr.Range.Contains(ip), $"{ip} is in {cidr}"));
        Assert.Equal(3, ips.Distinct().Count());
        // As kubelet's: the pods' hostIP is the node's InternalIP (its HTTPS address here), not the bridge's.
        string internalIp = node.Status.Addresses.Single(a => a.Type == "InternalIP").Address;
        Assert.Equal(IPAddress.Loopback.ToString(), internalIp);
        Assert.All(pods, p => Assert.Equal(internalIp, p.Status.HostIP));

        // Pod → pod by IP: nginx's page names the pod that answered.
        var (code, page, err) = await fixture.ExecAsync(ns, pods[0].Metadata.Name, "curl", "-sS", "--max-time", "5", $"http://{pods[1].Status.PodIP}/");
        Assert.True(code == 0, err);
        Assert.Contains($"pod {pods[1].Metadata.Name} in namespace {ns}", page, StringComparison.Ordinal);

        // The Endpoints controller sees them ready.
        await Eventually.WaitAsync(async () =>
        {
            var ep = await fixture.Client.CoreV1.ReadNamespacedEndpointsAsync("backend", ns);
            return ep.Subsets?.SelectMany(s => s.Addresses ?? []).Count() == 3;
        }, "3 ready addresses in Endpoints backend");
    }
}
