using System.Formats.Tar;
using System.Net.WebSockets;
using System.Text;
using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Streaming;

/// <summary>The node's <c>/exec</c>: a real process in the container's namespaces over the channel WebSocket, as kubelet serves it to the API server.</summary>
[Collection(NodeCollection.Name)]
public sealed class ExecTests(NodeFixture fixture) : IAsyncLifetime
{
    private const string Ns = "t-exec";
    private readonly NodeStreamClient _client = new(fixture);

    public Task InitializeAsync() => fixture.EnsureNamespaceAsync(Ns);

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Stdout_and_stderr_come_apart_and_the_exit_code_is_in_the_status()
    {
        await RunningAsync("split");

        var result = await _client.RunAsync(Exec("split", "sh", "-c", "echo out; echo err >&2; exit 7") + "&output=1&error=1", NodeStreamClient.V5);

        Assert.Equal("out\n", result.StdoutText);
        Assert.Equal("err\n", result.StderrText);
        var status = KubernetesJson.Deserialize<V1Status>(result.Error);
        Assert.Equal("NonZeroExitCode", status.Reason);
        Assert.Equal(7, result.ExitCode);
    }

    [Fact]
    public async Task The_command_runs_in_the_container_with_its_env_working_directory_user_and_hostname()
    {
        var pod = NodeFixture.ShellPod("inside", "sleep", "infinity");
        pod.Spec.Containers[0].WorkingDir = "/srv/app";
        pod.Spec.Containers[0].Env = [new V1EnvVar { Name = "GREETING", Value = "hello" }];
        pod.Spec.SecurityContext = new V1PodSecurityContext { RunAsUser = 1234, RunAsGroup = 1234 };
        await fixture.RunPodAsync(Ns, pod);

        var result = await _client.RunAsync(Exec("inside", "sh", "-c", "pwd; echo $GREETING; id -u; hostname") + "&output=1&error=1", NodeStreamClient.V5);

        Assert.Equal(["/srv/app", "hello", "1234", "inside"], result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Stdin_is_closed_by_the_v5_close_message_so_cat_ends_with_all_of_it()
    {
        await RunningAsync("cat");
        byte[] input = new byte[3 * 1024 * 1024 + 17];
        new Random(12).NextBytes(input);

        var result = await _client.RunAsync(Exec("cat", "cat") + "&input=1&output=1&error=1", NodeStreamClient.V5, input);

        Assert.Equal(input, result.Stdout);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task A_tar_copied_in_lands_in_the_pods_root_not_the_hosts_and_copies_back_out()
    {
        await RunningAsync("cp");
        string name = $"sb-cp-{Guid.NewGuid():N}.txt";
        using var archive = new MemoryStream();
        using (var writer = new TarWriter(archive, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream("copied in\n"u8.ToArray()) };
            writer.WriteEntry(entry);
        }

        // kubectl cp's own commands: tar -xmf - -C DIR with stdin half-closed, then tar cf - PATH.
        var extract = await _client.RunAsync(Exec("cp", "tar", "-xmf", "-", "-C", "/tmp") + "&input=1&output=1&error=1", NodeStreamClient.V5, archive.ToArray());
        Assert.Equal(0, extract.ExitCode);
        Assert.False(File.Exists("/tmp/" + name), "the file must not land on the host");

        var pack = await _client.RunAsync(Exec("cp", "tar", "cf", "-", "/tmp/" + name) + "&output=1&error=1", NodeStreamClient.V5);
        Assert.Equal(0, pack.ExitCode);
        using var reader = new TarReader(new MemoryStream(pack.Stdout));
        var back = reader.GetNextEntry();
        Assert.NotNull(back);
        Assert.Equal("tmp/" + name, back.Name);
        using var content = new StreamReader(back.DataStream!);
        Assert.Equal("copied in\n", await content.ReadToEndAsync());
    }

    [Fact]
    public async Task A_terminal_session_echoes_resizes_interrupts_and_passes_its_exit_status()
    {
        await RunningAsync("tty");
        using var socket = await _client.ConnectAsync(Exec("tty", "sh") + "&input=1&output=1&tty=1", NodeStreamClient.V5);
        using var demuxer = new StreamDemuxer(socket, StreamType.RemoteCommand, ownsSocket: false, supportsClose: true);
        using var stdout = demuxer.GetStream(ChannelIndex.StdOut, null);
        using var error = demuxer.GetStream(ChannelIndex.Error, null);
        using var stdin = demuxer.GetStream(null, ChannelIndex.StdIn);
        using var resize = demuxer.GetStream(null, ChannelIndex.Resize);
        demuxer.Start();
        var screen = new TerminalScreen(stdout);

        await resize.WriteAsync("{\"Width\":132,\"Height\":43}\n"u8.ToArray());
        await stdin.WriteAsync("stty size; tty\n"u8.ToArray());
        await screen.WaitForAsync("43 132");
        await screen.WaitForAsync("/dev/pts/");

        // Ctrl-C reaches sleep as SIGINT through the line discipline; the shell reports 130. The child shell prints the
        // marker once it is the terminal's foreground job, so the Ctrl-C cannot reach the interactive shell instead.
        await stdin.WriteAsync("sh -c 'echo sleep\"\"ing; exec sleep 60'\n"u8.ToArray());
        await screen.WaitForAsync("sleeping");
        await stdin.WriteAsync(new byte[] { 3 });
        await stdin.WriteAsync("echo status=$?\n"u8.ToArray());
        await screen.WaitForAsync("status=130");

        await stdin.WriteAsync("exit 3\n"u8.ToArray());
        using var status = new MemoryStream();
        await error.CopyToAsync(status);
        Assert.Equal(3, Kubernetes.GetExitCodeOrThrow(KubernetesJson.Deserialize<V1Status>(Encoding.UTF8.GetString(status.ToArray()))));
    }

    [Fact]
    public async Task Older_protocols_report_the_end_as_kubelet_does()
    {
        await RunningAsync("older");

        var v4 = await _client.RunAsync(Exec("older", "sh", "-c", "echo four; exit 4") + "&output=1", NodeStreamClient.V4);
        Assert.Equal("four\n", v4.StdoutText);
        Assert.Equal(4, v4.ExitCode);

        // channel.k8s.io: plain text on the error channel, and nothing at all on success.
        var plain = await _client.RunAsync(Exec("older", "sh", "-c", "echo one; exit 5") + "&output=1", "channel.k8s.io");
        Assert.Equal("one\n", plain.StdoutText);
        Assert.Equal("command terminated with non-zero exit code: exit status 5", plain.Error);
        var success = await _client.RunAsync(Exec("older", "true") + "&output=1", "channel.k8s.io");
        Assert.Equal("", success.Error);

        // base64.channel.k8s.io: text messages, '0'+channel then base64.
        using var socket = await _client.ConnectAsync(Exec("older", "echo", "sixty-four") + "&output=1", "base64.channel.k8s.io");
        var messages = new List<string>();
        byte[] buffer = new byte[4096];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            Assert.Equal(WebSocketMessageType.Text, received.MessageType);
            messages.Add(Encoding.ASCII.GetString(buffer, 0, received.Count));
        }

        Assert.Equal("1", messages[0]);
        Assert.Contains("1" + Convert.ToBase64String("sixty-four\n"u8.ToArray()), messages);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task Requests_it_cannot_serve_get_kubelets_Status_errors()
    {
        await RunningAsync("errors");

        var (code, status) = await _client.GetAsync($"/exec/{Ns}/nowhere/main?command=true&output=1");
        Assert.Equal(404, code);
        Assert.Equal("NotFound", status.Reason);

        (code, status) = await _client.GetAsync($"/exec/{Ns}/errors/other?command=true&output=1");
        Assert.Equal(400, code);
        Assert.Contains("container other is not valid for pod errors", status.Message, StringComparison.Ordinal);

        (code, status) = await _client.GetAsync($"/exec/{Ns}/errors/main?command=true");
        Assert.Equal(400, code);
        Assert.Equal("you must specify at least 1 of stdin, stdout, stderr", status.Message);

        (code, status) = await _client.GetAsync($"/exec/{Ns}/errors/main?command=true&output=1");
        Assert.Equal(400, code);
        Assert.Contains("Upgrade request required", status.Message, StringComparison.Ordinal);

        (code, status) = await _client.GetAsync($"/attach/{Ns}/errors/main?output=1");
        Assert.Equal(400, code);

        // A container that has ended: kubelet's "container not found", which kubectl shows as "unable to upgrade connection".
        var done = NodeFixture.ShellPod("done", "true");
        done.Spec.RestartPolicy = "Never";
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(done, Ns);
        await fixture.WaitForPodAsync(Ns, "done", p => p.Status?.Phase == "Succeeded", "Succeeded");
        (code, status) = await _client.GetAsync($"/exec/{Ns}/done/main?command=true&output=1");
        Assert.Equal(500, code);
        Assert.Equal("container not found (\"main\")", status.Message);
    }

    private async Task RunningAsync(string name) => await fixture.RunPodAsync(Ns, NodeFixture.ShellPod(name, "sleep", "infinity"));

    private static string Exec(string pod, params string[] command) =>
        $"/exec/{Ns}/{pod}/main?" + string.Join('&', command.Select(c => "command=" + Uri.EscapeDataString(c)));
}
