using k8s;
using Switchboard.ApiServer;
using Switchboard.Kube.Client;
using Switchboard.Storage.Sqlite;

namespace Switchboard.Testing;

/// <summary>
/// A real API server in the test process, on a free loopback port over the SQLite store in a temp dir, with a
/// KubernetesClient and the real kubectl: the cluster the component tests (Kube, Controllers, Dns) run against.
/// </summary>
public sealed class InProcessApiServer : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("sb-api-");
    private SqliteKeyValueStore? _store;
    private ComponentTestHost? _host;
    private IKubernetes? _client;
    private Kubectl? _kubectl;

    public ApiServerService Host => _host?.Get<ApiServerService>() ?? throw new InvalidOperationException("server not started");

    public SqliteKeyValueStore Store => _store ?? throw new InvalidOperationException("server not started");

    public IKubernetes Client => _client ?? throw new InvalidOperationException("server not started");

    public string KubeconfigPath => Host.KubeconfigPath;

    public string DataDirectory => _dir.Path;

    /// <summary>
    /// The ServiceAccount admission plugin, off by default here as in upstream's integration servers: no controller
    /// makes the accounts it requires.
    /// </summary>
    public bool ServiceAccountAdmission { get; init; }

    /// <summary>The real kubectl against this server (for the commands that run until stopped, <c>Kubectl.Start</c>).</summary>
    public Kubectl Kubectl => _kubectl ?? throw new InvalidOperationException("server not started");

    public async Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(_dir.File("state.db"));
        var store = _store;
        _host = await ComponentTestHost.StartAsync(services => services.AddApiServer(new ApiServerOptions { DataDirectory = _dir.Path, Port = 0, ServiceAccountAdmission = ServiceAccountAdmission }, store));
        _client = KubeClients.FromKubeconfig(Host.KubeconfigPath);
        _kubectl = new Kubectl(Host.KubeconfigPath, _dir.File("kubectl-cache"));
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

        _dir.Dispose();
    }

    /// <summary>Runs kubectl against this server; returns exit code and output.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> KubectlAsync(params string[] args)
    {
        var result = await Kubectl.RunAsync(args);
        return (result.ExitCode, result.Stdout, result.Stderr);
    }

    /// <summary>Runs kubectl and fails the test unless it exits 0; returns its standard output.</summary>
    public Task<string> KubectlOkAsync(params string[] args) => Kubectl.OutputAsync(args);

    /// <summary>shared/examples/NAME.</summary>
    public static string ExampleFile(string name) => SharedFiles.Example(name);
}
