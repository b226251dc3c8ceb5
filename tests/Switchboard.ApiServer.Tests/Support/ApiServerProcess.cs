using System.Diagnostics;
using System.Text;
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
    private readonly StringBuilder _output = new();
    private Process? _process;

    public ApiServerProcess(string dataDirectory, string store, params string[] extraArguments)
    {
        DataDirectory = dataDirectory;
        int port = FreePort.Next();
        _arguments = ["--data-dir", dataDirectory, "--store", store, "--api-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extraArguments];
    }

    public string DataDirectory { get; }

    public string KubeconfigPath => Path.Combine(DataDirectory, "kubeconfig");

    public Kubernetes NewClient() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath));

    /// <summary>Starts the server and waits for the line it logs once it serves.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "switchboard.dll"));
        start.ArgumentList.Add("apiserver");
        foreach (string argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var serving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Record(e.Data, serving);
        process.ErrorDataReceived += (_, e) => Record(e.Data, serving);
        process.Exited += (_, _) => serving.TrySetException(new InvalidOperationException($"the API server exited while starting:\n{Output()}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await serving.Task.WaitAsync(StartDeadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the API server did not serve within {StartDeadline}:\n{Output()}");
        }
    }

    /// <summary>SIGKILL, as a crash: no shutdown code runs.</summary>
    public void Kill()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();

    private void Record(string? line, TaskCompletionSource serving)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains("API server serving on ", StringComparison.Ordinal))
        {
            serving.TrySetResult();
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }
}
