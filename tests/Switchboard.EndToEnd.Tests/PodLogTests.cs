using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary><c>kubectl logs</c> against <c>switchboard up</c>: the API server reaches its node at the node's InternalIP.</summary>
public sealed class PodLogTests : SwitchboardUpTestBase
{
    [Fact]
    public async Task Kubectl_logs_and_node_proxy_reach_the_node_at_its_internal_ip()
    {
        string node = (await Up.Kubectl.OutputAsync("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")).Trim();
        // up's node listens on the API server's address, loopback here, and reports it as its InternalIP.
        Assert.Equal("127.0.0.1", await Up.Kubectl.OutputAsync("get", "node", node, "-o", "jsonpath={.status.addresses[?(@.type==\"InternalIP\")].address}"));
        Assert.Equal("ok", await Up.Kubectl.OutputAsync("get", "--raw", $"/api/v1/nodes/{node}/proxy/healthz"));

        await Up.Kubectl.OutputAsync("run", "hello", "--image=debian:12", "--restart=Never", "--", "sh", "-c", "echo hello from the pod; echo bye");
        await Eventually.WaitAsync(
            async () => (await Up.Kubectl.OutputAsync("get", "pod", "hello", "-o", "jsonpath={.status.phase}")) == "Succeeded",
            "the pod to succeed", TimeSpan.FromSeconds(60));
        Assert.Equal("hello from the pod\nbye\n", await Up.Kubectl.OutputAsync("logs", "hello"));
        Assert.Equal("bye\n", await Up.Kubectl.OutputAsync("logs", "hello", "--tail=1"));
    }
}
