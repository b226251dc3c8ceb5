using System.Diagnostics;
using System.Globalization;
using System.Text;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// <c>switchboard up</c> as a user runs it: its own process, a temp data dir, a free API port. Stopped with
/// <c>switchboard down</c> (killed if that fails) and its data dir removed, even when a test fails.
/// </summary>
public sealed class SwitchboardUp : IAsyncDisposable
{
    // `up --nodes 3` starts two agent processes too, each ready once its node is.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly StringBuilder _log = new();
    private Process? _process;

    private SwitchboardUp(string dataDirectory, int apiPort)
    {
        DataDirectory = dataDirectory;
        ApiPort = apiPort;
        DnsPort = FreePort.Next();
        DnsMetricsPort = FreePort.Next();
        ProxyMetricsPort = FreePort.Next();
        EtcdPort = FreePort.Next();
        Kubectl = new Kubectl(Path.Combine(dataDirectory, "kubeconfig"), Path.Combine(dataDirectory, "kubectl-cache"), () => ExitNote);
    }

    public string DataDirectory { get; }

    public int ApiPort { get; }

    /// <summary>Where the cluster DNS server answers the host, on 127.0.0.1.</summary>
    public int DnsPort { get; }

    public int DnsMetricsPort { get; }

    /// <summary>The service proxy's /metrics, /healthz and /trace, on 127.0.0.1 (the node's address).</summary>
    public int ProxyMetricsPort { get; }

    /// <summary>The port of the etcd v3 front (TLS).</summary>
    public int EtcdPort { get; }

    public Kubectl Kubectl { get; }

    /// <summary>What the process printed so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>For a failure's message: nothing while the process runs; once it has exited, its exit code and last lines.</summary>
    public string ExitNote =>
        _process is { HasExited: true } exited
            ? $"\nswitchboard up has exited ({exited.ExitCode}); its last lines:\n{string.Join('\n', Log.Split('\n').TakeLast(60))}"
            : "";

    public static async Task<SwitchboardUp> StartAsync(params string[] extraArgs)
    {
        var up = new SwitchboardUp(Directory.CreateTempSubdirectory("sb-e2e-").FullName, FreePort.Next());
        try
        {
            await up.StartProcessAsync(extraArgs);
            return up;
        }
        catch
        {
            await up.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs the switchboard executable with <paramref name="args"/> to completion.</summary>
    public static Task<ProcessResult> RunAsync(params string[] args) =>
        ChildProcess.RunAsync(Program, Arguments(args));

    /// <summary>Stops the running instance with <c>switchboard down</c>.</summary>
    public async Task DownAsync()
    {
        (await RunAsync("down", "--data-dir", DataDirectory)).EnsureSuccess("switchboard down");
        if (_process is not null)
        {
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts it again on the same data dir and port, after <see cref="DownAsync"/> or a kill.</summary>
    public Task RestartAsync() => StartProcessAsync([]);

    /// <summary>SIGKILLs the process, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Always: down of a data dir whose up is gone still removes the node's pods, namespaces and monitor host, which an
        // up that died (or was killed) leaves behind for a restart to adopt.
        await RunAsync("down", "--data-dir", DataDirectory);
        if (_process is { HasExited: false })
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process?.Dispose();
        Directory.Delete(DataDirectory, recursive: true);
    }

    /// <summary>
    /// The program that runs switchboard: the published native executable when SWITCHBOARD_EXECUTABLE names it
    /// (test.sh publishes one, so the suite runs what users install), else dotnet with this build's switchboard.dll.
    /// </summary>
    internal static string Program => Published ?? Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    /// <summary>The arguments to <see cref="Program"/> for switchboard's <paramref name="args"/>.</summary>
    internal static string[] Arguments(params string[] args) =>
        Published is null ? [Path.Combine(AppContext.BaseDirectory, "switchboard.dll"), .. args] : args;

    private static string? Published => Environment.GetEnvironmentVariable("SWITCHBOARD_EXECUTABLE") is { Length: > 0 } path ? path : null;

    private async Task StartProcessAsync(string[] extraArgs)
    {
        _process?.Dispose();
        var start = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] args =
        [
            .. Arguments("up", "--data-dir", DataDirectory),
            "--api-port", ApiPort.ToString(CultureInfo.InvariantCulture),
            "--dns-port", DnsPort.ToString(CultureInfo.InvariantCulture),
            "--dns-metrics", "127.0.0.1:" + DnsMetricsPort.ToString(CultureInfo.InvariantCulture),
            "--kubelet-port", FreePort.Next().ToString(CultureInfo.InvariantCulture),
            "--proxy-metrics-port", ProxyMetricsPort.ToString(CultureInfo.InvariantCulture),
            "--etcd-listen", "127.0.0.1:" + EtcdPort.ToString(CultureInfo.InvariantCulture),
            .. extraArgs,
        ];
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start switchboard");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var process = _process;
        try
        {
            await Eventually.WaitAsync(
                async () => process.HasExited
                    || (File.Exists(Kubectl.KubeconfigPath) && (await Kubectl.RunAsync("get", "--raw", "/readyz")).ExitCode == 0),
                "switchboard up to write its kubeconfig and answer /readyz",
                StartTimeout);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // What up printed is what says why it never got ready.
            throw new InvalidOperationException($"{e.Message}\nswitchboard up printed:\n{Log}", e);
        }

        Assert.False(process.HasExited, $"switchboard up exited early:\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
