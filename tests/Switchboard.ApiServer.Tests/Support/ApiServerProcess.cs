using k8s;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>
/// The API server as a process of its own (<c>switchboard apiserver</c>, built beside the tests), so that it can be
/// killed with SIGKILL and started again on the same data dir and port.
/// </summary>
public sealed class ApiServerProcess : IDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);
    private readonly string[] _arguments;
    private RunningProcess? _process;

    public ApiServerProcess(string dataDirectory, string store, params string[] extraArguments)
    {
        DataDirectory = dataDirectory;
        int port = FreePort.Next();
        _arguments = ["--data-dir", dataDirectory, "--store", store, "--api-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--etcd-listen", "", .. extraArguments];
    }

    public string DataDirectory { get; }

    public string KubeconfigPath => Path.Combine(DataDirectory, "kubeconfig");

    public Kubernetes NewClient() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath));

    /// <summary>Starts the server and waits for the line it logs once it serves.</summary>
    public Task StartAsync()
    {
        _process = RunningProcess.Start(ChildProcess.DotnetHost, [Path.Combine(AppContext.BaseDirectory, "switchboard.dll"), "apiserver", .. _arguments]);
        return _process.WaitForLineAsync(line => line.Contains("API server serving on ", StringComparison.Ordinal), "that it serves", StartDeadline);
    }

    /// <summary>SIGKILL, as a crash: no shutdown code runs.</summary>
    public void Kill()
    {
        _process?.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();
}
