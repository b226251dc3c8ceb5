using k8s;
using Switchboard.Storage;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>
/// A real API server in this process on a free loopback port, over the store a subclass opens, driven by the real
/// kubectl and by KubernetesClient. It can be stopped and started again on the same data dir, store and port.
/// </summary>
public abstract class ApiServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("sb-api-");
    private IKeyValueStore? _store;
    private ComponentTestHost? _host;
    private int _port;

    public ApiServerService Host => _host?.Get<ApiServerService>() ?? throw new InvalidOperationException("server not started");

    /// <summary>The store the server runs on (for compaction in tests).</summary>
    public IKeyValueStore Store => _store ?? throw new InvalidOperationException("store not open");

    public string DataDirectory => _dir.Path;

    public Kubectl Kubectl => new(Host.KubeconfigPath, KubectlCache);

    private string KubectlCache => _dir.File("kubectl-cache");

    public virtual async Task InitializeAsync()
    {
        _port = 0;
        await StartAsync();
        _port = Host.Url.Port;
    }

    /// <summary>Starts a long-running kubectl (e.g. <c>get -w</c>) whose stdout lines are read as they come.</summary>
    public RunningProcess StartKubectl(params string[] args) => Kubectl.Start(args);

    /// <summary>A KubernetesClient from DATA_DIR/kubeconfig, as a user would build it.</summary>
    public Kubernetes NewClient() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(Host.KubeconfigPath));

    /// <summary>Stops the server and closes its store, as a shutdown does; <see cref="StartAsync"/> brings it back.</summary>
    public async Task StopAsync()
    {
        await ServerAndStore.StopAsync(_host, _store);
        _host = null;
        _store = null;
    }

    /// <summary>Starts the server again on the same data dir, store and port.</summary>
    public async Task StartAsync()
    {
        var store = _store = await OpenStoreAsync(_dir.Path);
        _host = await ComponentTestHost.StartAsync(services => services.AddApiServer(Configure(new ApiServerOptions { DataDirectory = _dir.Path, Port = _port }), store));
    }

    public virtual async Task DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }

    protected abstract Task<IKeyValueStore> OpenStoreAsync(string dataDirectory);

    /// <summary>
    /// The server's options: the defaults unless a fixture sets its own limits, with the ServiceAccount admission off as in
    /// upstream's integration servers (no controller makes the accounts it requires).
    /// </summary>
    protected virtual ApiServerOptions Configure(ApiServerOptions options) => options with { ServiceAccountAdmission = false };
}
