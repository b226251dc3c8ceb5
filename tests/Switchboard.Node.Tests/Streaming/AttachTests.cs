using System.Text;
using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Streaming;

/// <summary>The node's <c>/attach</c>: the container's main process, its stdin and terminal kept by its monitor because the pod asked for them.</summary>
[Collection(NodeCollection.Name)]
public sealed class AttachTests(NodeFixture fixture) : IAsyncLifetime
{
    private const string Ns = "t-attach";
    private readonly NodeStreamClient _client = new(fixture);

    public Task InitializeAsync() => fixture.EnsureNamespaceAsync(Ns);

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Attaching_to_a_tty_container_types_into_its_shell_and_its_exit_ends_the_pod_with_that_code()
    {
        // What kubectl run -it creates: stdin, stdinOnce and tty on the container, restartPolicy Never.
        var pod = NodeFixture.ShellPod("shell", "sh");
        pod.Spec.RestartPolicy = "Never";
        pod.Spec.Containers[0].Stdin = true;
        pod.Spec.Containers[0].StdinOnce = true;
        pod.Spec.Containers[0].Tty = true;
        await fixture.RunPodAsync(Ns, pod);

        using var socket = await _client.ConnectAsync($"/attach/{Ns}/shell/main?input=1&output=1&tty=1", NodeStreamClient.V5);
        using var demuxer = new StreamDemuxer(socket, StreamType.RemoteCommand, ownsSocket: false, supportsClose: true);
        using var stdout = demuxer.GetStream(ChannelIndex.StdOut, null);
        using var error = demuxer.GetStream(ChannelIndex.Error, null);
        using var stdin = demuxer.GetStream(null, ChannelIndex.StdIn);
        using var resize = demuxer.GetStream(null, ChannelIndex.Resize);
        demuxer.Start();
        var screen = new TerminalScreen(stdout);

        await resize.WriteAsync("{\"Width\":90,\"Height\":21}\n"u8.ToArray());
        await stdin.WriteAsync("echo attached-$((6*7)); stty size; echo $TERM\n"u8.ToArray());
        await screen.WaitForAsync("attached-42");
        await screen.WaitForAsync("21 90");
        await screen.WaitForAsync("xterm");
        await stdin.WriteAsync("exit 5\n"u8.ToArray());

        // The attach ends when the container does, with success; the container's own code is in the pod's status.
        using var status = new MemoryStream();
        await error.CopyToAsync(status);
        Assert.Equal(0, Kubernetes.GetExitCodeOrThrow(KubernetesJson.Deserialize<V1Status>(Encoding.UTF8.GetString(status.ToArray()))));
        var ended = await fixture.WaitForPodAsync(Ns, "shell", p => p.Status?.Phase == "Failed", "Failed");
        Assert.Equal(5, ended.Status.ContainerStatuses[0].State.Terminated.ExitCode);
    }

    [Fact]
    public async Task Stdin_once_closes_the_containers_stdin_when_the_attached_client_closes_its_own()
    {
        var pod = NodeFixture.ShellPod("cat", "cat");
        pod.Spec.RestartPolicy = "Never";
        pod.Spec.Containers[0].Stdin = true;
        pod.Spec.Containers[0].StdinOnce = true;
        await fixture.RunPodAsync(Ns, pod);

        using var socket = await _client.ConnectAsync($"/attach/{Ns}/cat/main?input=1&output=1&error=1", NodeStreamClient.V5);
        using var demuxer = new StreamDemuxer(socket, StreamType.RemoteCommand, ownsSocket: false, supportsClose: true);
        using var stdout = demuxer.GetStream(ChannelIndex.StdOut, null);
        using var stdin = demuxer.GetStream(null, ChannelIndex.StdIn);
        demuxer.Start();
        var screen = new TerminalScreen(stdout);

        await stdin.WriteAsync("through the pipe\n"u8.ToArray());
        await screen.WaitForAsync("through the pipe\n");
        await demuxer.CloseChannel(ChannelIndex.StdIn);

        // cat read end-of-file and ended: the container completed.
        var ended = await fixture.WaitForPodAsync(Ns, "cat", p => p.Status?.Phase == "Succeeded", "Succeeded");
        Assert.Equal(0, ended.Status.ContainerStatuses[0].State.Terminated.ExitCode);
        await screen.Ended.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
