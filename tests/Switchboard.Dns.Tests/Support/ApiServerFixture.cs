using System.Diagnostics;
using k8s;
using Switchboard.ApiServer;
using Switchboard.Kube.Client;
using Switchboard.Storage.Sqlite;

namespace Switchboard.Dns.Tests.Support;

/// <summary>A real API server on a free loopback port over the SQLite store in a temp dir, with a client and kubectl.</summary>
public sealed class ApiServerFixture : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sb-dns-api-").FullName;
    private SqliteKeyValueStore? _store;
    private ApiServerHost? _host;
    private IKubernetes? _client;

    public SqliteKeyValueStore Store => _store ?? throw new InvalidOperationException("server not started");

    public IKubernetes Client => _client ?? throw new InvalidOperationException("server not started");

    public string KubeconfigPath => _host?.KubeconfigPath ?? throw new InvalidOperationException("server not started");

    public async Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(Path.Combine(_dir, "state.db"));
        _host = await ApiServerHost.StartAsync(new ApiServerOptions { DataDirectory = _dir, Port = 0 }, _store);
        _client = KubeClients.FromKubeconfig(_host.KubeconfigPath);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>shared/examples/NAME: found by walking up from the test assembly (the CI clone), else /work/shared.</summary>
    public static string ExampleFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "examples", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.Combine("/work/shared/examples", name);
    }

    /// <summary>Runs kubectl against this server and fails the test unless it exits 0; returns its output.</summary>
    public async Task<string> KubectlAsync(params string[] args)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["KUBECONFIG"] = KubeconfigPath;
        start.ArgumentList.Add("--cache-dir");
        start.ArgumentList.Add(Path.Combine(_dir, "kubectl-cache"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(deadline.Token);
        Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        return await stdout;
    }
}
