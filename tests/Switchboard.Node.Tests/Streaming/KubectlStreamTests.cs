using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Streaming;

/// <summary>
/// The real kubectl 1.32 (and KubernetesClient) through the API server's relay to the node: exec with and without a
/// terminal, stdin's end, cp, attach, run -it; the terminal ones on a real pseudo-terminal.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class KubectlStreamTests(NodeFixture fixture) : IAsyncLifetime
{
    private const string Ns = "t-kubectl-streams";

    private Kubectl Kubectl => fixture.Server.Kubectl;

    public Task InitializeAsync() => fixture.EnsureNamespaceAsync(Ns);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Exec_without_a_terminal_keeps_stdout_and_stderr_apart_and_exits_with_the_commands_code()
    {
        await RunningAsync("plain");

        var result = await Kubectl.RunAsync("exec", "-n", Ns, "plain", "--", "sh", "-c", "echo out; echo err >&2; exit 7");

        Assert.Equal("out\n", result.Stdout);
        Assert.Contains("err\n", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(7, result.ExitCode);
    }

    [Fact]
    public async Task Exec_it_gives_a_shell_prompt_whose_exit_status_kubectl_passes_on()
    {
        await RunningAsync("interactive");

        using var terminal = Kubectl.StartOnTerminal("exec", "-it", "-n", Ns, "interactive", "--", "sh");
        await terminal.Screen.WaitForAsync("# ");
        await terminal.TypeAsync("echo $((40+2)); stty size\n");
        await terminal.Screen.WaitForAsync("42");
        // The terminal's size (120 × 40, set by the helper) reached the process through kubectl's resize messages.
        await terminal.Screen.WaitForAsync("40 120");
        await terminal.TypeAsync("exit 3\n");

        Assert.Equal(3, await terminal.WaitForExitAsync());
    }

    [Fact]
    public async Task Exec_i_gives_the_command_its_stdin_and_its_end()
    {
        await RunningAsync("stdin");
        using var input = new TempDirectory("sb-exec-in-");
        string file = input.File("in.txt");
        await File.WriteAllTextAsync(file, "first\nsecond\n");

        var result = await Kubectl.RunWithInputAsync(file, "exec", "-i", "-n", Ns, "stdin", "--", "sh", "-c", "cat; echo end-of-input");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("first\nsecond\nend-of-input\n", result.Stdout);
    }

    [Fact]
    public async Task Cp_copies_a_file_into_the_pods_own_filesystem_and_back_out()
    {
        await RunningAsync("copy");
        using var local = new TempDirectory("sb-cp-");
        string name = $"sb-kubectl-cp-{Guid.NewGuid():N}.txt";
        await File.WriteAllTextAsync(local.File("in.txt"), "carried by tar\n");

        var copyIn = await Kubectl.RunAsync("cp", local.File("in.txt"), $"{Ns}/copy:/tmp/{name}");
        Assert.True(copyIn.ExitCode == 0, copyIn.Stderr);
        Assert.False(File.Exists("/tmp/" + name), "the copy must land in the pod, not on the host");
        Assert.Equal("carried by tar\n", await Kubectl.OutputAsync("exec", "-n", Ns, "copy", "--", "cat", "/tmp/" + name));

        var copyOut = await Kubectl.RunAsync("cp", $"{Ns}/copy:/tmp/{name}", local.File("out.txt"));
        Assert.True(copyOut.ExitCode == 0, copyOut.Stderr);
        Assert.Equal("carried by tar\n", await File.ReadAllTextAsync(local.File("out.txt")));
    }

    [Fact]
    public async Task Attach_it_reaches_the_shell_of_a_pod_started_with_stdin_and_tty()
    {
        var pod = NodeFixture.ShellPod("attached", "sh");
        pod.Spec.Containers[0].Stdin = true;
        pod.Spec.Containers[0].Tty = true;
        await fixture.RunPodAsync(Ns, pod);

        using var terminal = Kubectl.StartOnTerminal("attach", "-it", "-n", Ns, "attached");
        await terminal.Screen.WaitForAsync("If you don't see a command prompt, try pressing enter.");
        await terminal.TypeAsync("echo attached-$((6*7))\n");
        await terminal.Screen.WaitForAsync("attached-42");
        await terminal.TypeAsync("exit\n");

        Assert.Equal(0, await terminal.WaitForExitAsync());
    }

    [Fact]
    public async Task Run_it_rm_attaches_to_the_new_pods_bash_prompt_then_deletes_the_pod()
    {
        using var terminal = Kubectl.StartOnTerminal("run", "-it", "--rm", "--image=tutum/curl", "shell", "--namespace", Ns, "--restart=Never");
        // Debian's /etc/bash.bashrc prompt with the pod's hostname.
        await terminal.Screen.WaitForAsync("root@shell:/#", TimeSpan.FromSeconds(90));
        await terminal.TypeAsync("echo in-$(hostname)\n");
        await terminal.Screen.WaitForAsync("in-shell");
        await terminal.TypeAsync("exit\n");

        Assert.Equal(0, await terminal.WaitForExitAsync());
        Assert.Contains("pod \"shell\" deleted", terminal.Screen.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KubernetesClient_exec_reports_the_exit_code()
    {
        await RunningAsync("csharp");
        string? output = null;

        int code = await fixture.Client.NamespacedPodExecAsync("csharp", Ns, "main", ["sh", "-c", "echo from-csharp; exit 9"], tty: false,
            async (stdin, stdout, stderr) =>
            {
                using var reader = new StreamReader(stdout);
                output = await reader.ReadToEndAsync();
            }, CancellationToken.None);

        Assert.Equal("from-csharp\n", output);
        Assert.Equal(9, code);
    }

    private async Task RunningAsync(string name) => await fixture.RunPodAsync(Ns, NodeFixture.ShellPod(name, "sleep", "infinity"));
}
