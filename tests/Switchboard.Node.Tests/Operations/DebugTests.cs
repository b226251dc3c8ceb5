using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Operations;

/// <summary>
/// The real kubectl 1.32's <c>debug -it --image=busybox</c>: an ephemeral container added through
/// pods/ephemeralcontainers, started by the node in the pod's namespaces, attached to on a terminal; it reaches the
/// pod's nginx on localhost, exits, and stays in the pod's status as terminated. Ephemeral containers are only added,
/// and without what containers of the pod's own lifecycle have (ports here): 422 naming the field.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class DebugTests(NodeFixture fixture) : IAsyncLifetime
{
    private const string Ns = "t-debug";

    private Kubectl Kubectl => fixture.Server.Kubectl;

    public Task InitializeAsync() => fixture.EnsureNamespaceAsync(Ns);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Debug_it_with_busybox_reaches_the_pods_nginx_on_localhost_and_exits()
    {
        await fixture.RunPodAsync(Ns, WebPod("web"));

        using var terminal = Kubectl.StartOnTerminal("debug", "-it", "-n", Ns, "web", "--image=busybox", "--target=nginx", "--container=debugger");
        await terminal.Screen.WaitForAsync("# ");
        await terminal.TypeAsync("busybox wget -qO- http://localhost/ | grep -o 'Welcome to [a-z]*' | head -1; hostname\n");
        await terminal.Screen.WaitForAsync("Welcome to nginx");
        await terminal.Screen.WaitForAsync("\nweb");
        await terminal.TypeAsync("exit 0\n");

        Assert.Equal(0, await terminal.WaitForExitAsync());
        var pod = await fixture.WaitForPodAsync(Ns, "web", p => p.Status?.EphemeralContainerStatuses?.Any(s => s.Name == "debugger" && s.State?.Terminated is not null) == true,
            "the ephemeral container terminated in the status");
        var debugger = Assert.Single(pod.Spec.EphemeralContainers);
        Assert.Equal("nginx", debugger.TargetContainerName);
        Assert.Equal("Running", pod.Status.Phase);
        Assert.Contains(pod.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
    }

    [Fact]
    public async Task An_ephemeral_container_with_ports_is_refused_naming_the_field()
    {
        await fixture.RunPodAsync(Ns, WebPod("refuses"));
        var patch = new V1Patch("""{"spec":{"ephemeralContainers":[{"name":"bad","image":"busybox","ports":[{"containerPort":80}]}]}}""", V1Patch.PatchType.StrategicMergePatch);

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => fixture.Client.CoreV1.PatchNamespacedPodEphemeralcontainersAsync(patch, "refuses", Ns));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);
        Assert.Contains("spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container", refused.Response.Content, StringComparison.Ordinal);
        Assert.Null((await fixture.Client.CoreV1.ReadNamespacedPodAsync("refuses", Ns)).Spec.EphemeralContainers);
    }

    private static V1Pod WebPod(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1PodSpec { TerminationGracePeriodSeconds = 1, Containers = [new V1Container { Name = "nginx", Image = "nginx" }] },
    };
}
