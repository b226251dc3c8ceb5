namespace Switchboard.Testing;

/// <summary>
/// The real kubectl of this machine against one cluster, with a discovery cache of its own. <paramref name="serverNote"/>
/// says what a failed command's message should add about the server (that it has exited, and what it printed).
/// </summary>
public sealed class Kubectl(string kubeconfigPath, string cacheDirectory, Func<string>? serverNote = null)
{
    public string KubeconfigPath { get; } = kubeconfigPath;

    public Task<ProcessResult> RunAsync(params string[] args) =>
        ChildProcess.RunAsync("kubectl", ["--cache-dir", cacheDirectory, .. args], new Dictionary<string, string> { ["KUBECONFIG"] = KubeconfigPath });

    /// <summary>Starts kubectl for a command that runs until stopped, such as <c>get -w</c>.</summary>
    public RunningProcess Start(params string[] args) =>
        RunningProcess.Start("kubectl", ["--cache-dir", cacheDirectory, .. args], new Dictionary<string, string> { ["KUBECONFIG"] = KubeconfigPath });

    /// <summary>Runs kubectl with its standard input read from <paramref name="inputFile"/>.</summary>
    public Task<ProcessResult> RunWithInputAsync(string inputFile, params string[] args) =>
        ChildProcess.RunAsync("sh", ["-c", "exec kubectl \"$@\" < \"$0\"", inputFile, "--cache-dir", cacheDirectory, .. args], new Dictionary<string, string> { ["KUBECONFIG"] = KubeconfigPath });

    /// <summary>Starts kubectl on a real terminal of its own (<c>exec -it</c>, <c>run -it</c>, <c>attach -it</c>), to type into and read.</summary>
    public TerminalProcess StartOnTerminal(params string[] args) =>
        TerminalProcess.Start("kubectl", ["--cache-dir", cacheDirectory, .. args], new Dictionary<string, string> { ["KUBECONFIG"] = KubeconfigPath });

    /// <summary>Runs kubectl and returns its standard output, failing the test if it fails.</summary>
    public async Task<string> OutputAsync(params string[] args) =>
        (await RunAsync(args)).EnsureSuccess("kubectl " + string.Join(' ', args) + serverNote?.Invoke()).Stdout;
}
