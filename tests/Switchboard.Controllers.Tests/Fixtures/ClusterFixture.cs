using k8s;
using Switchboard.ApiServer.Authorization;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Fixtures;

/// <summary>
/// A real API server, one fake node and the controller manager (as system:kube-controller-manager, under RBAC), which a
/// test may stop and start again.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly InProcessApiServer _server = new();
    private FakeNode? _node;
    private ComponentTestHost? _controllers;

    public InProcessApiServer Server => _server;

    public IKubernetes Client => _server.Client;

    public FakeNode Node => _node ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        _node = await FakeNode.StartAsync(Client, "node-1");
        await StartControllersAsync();
    }

    public async Task DisposeAsync()
    {
        await StopControllersAsync();
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    /// <summary>Starts the controller manager and waits until its caches have synced.</summary>
    public async Task StartControllersAsync()
    {
        var options = new ControllerOptions { Workers = 2, UnwatchedOwnerRecheck = TimeSpan.FromSeconds(1), RootCaFile = Path.Combine(_server.DataDirectory, "ca.crt") };
        // As the controller manager's own identity, so every test here also proves its bootstrap role is enough.
        var identity = _server.Host.ClientConfigurationFor(BootstrapIdentities.ControllerManagerUser);
        _controllers = await ComponentTestHost.StartAsync(services => services.AddKubeClient(_ => KubeClients.FromKubeconfig(identity)).AddControllers(options));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _controllers.Get<ControllerManager>().WaitUntilReadyAsync(deadline.Token);
    }

    /// <summary>Stops the controller manager (as a kill would, mid-work) and waits until it has stopped.</summary>
    public async Task StopControllersAsync()
    {
        if (_controllers is null)
        {
            return;
        }

        await _controllers.DisposeAsync();
        _controllers = null;
    }
}
