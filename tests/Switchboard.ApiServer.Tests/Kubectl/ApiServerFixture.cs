using System.Diagnostics;
using Switchboard.Storage.Sqlite;

namespace Switchboard.ApiServer.Tests.Kubectl;

/// <summary>A real API server on a free loopback port over the SQLite store in a temp dir, driven by the real kubectl.</summary>
public sealed class ApiServerFixture : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sb-api-").FullName;
    private SqliteKeyValueStore? _store;
    private ApiServerHost? _host;

    public ApiServerHost Host => _host ?? throw new InvalidOperationException("server not started");

    public string DataDirectory => _dir;

    public async Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(Path.Combine(_dir, "state.db"));
        _host = await ApiServerHost.StartAsync(new ApiServerOptions { DataDirectory = _dir, Port = 0 }, _store);
    }

    public async Task DisposeAsync()
    {
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

    /// <summary>Runs kubectl against this server with its own discovery cache; returns exit code and output.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> KubectlAsync(params string[] args)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["KUBECONFIG"] = Host.KubeconfigPath;
        start.ArgumentList.Add("--cache-dir");
        start.ArgumentList.Add(Path.Combine(_dir, "kubectl-cache"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>shared/examples/backend.yaml: beside the clone at CI time (../shared), else /work/shared.</summary>
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
}
