using Switchboard.Testing;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace Switchboard.Controllers.Tests.Fixtures;

/// <summary>A real API server, one fake node and the controller manager, which a test may stop and start again.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly InProcessApiServer _server = new();
    private FakeNode? _node;
    private CancellationTokenSource? _stopControllers;
    private Task? _controllers;

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
        var synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stopControllers = new CancellationTokenSource();
        var options = new ControllerOptions { OnSynced = synced.SetResult, Workers = 2, UnwatchedOwnerRecheck = TimeSpan.FromSeconds(1) };
        _controllers = ControllerManager.RunAsync(Client, options, NullLoggerFactory.Instance, _stopControllers.Token);
        await synced.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Stops the controller manager (as a kill would, mid-work) and waits until it has stopped.</summary>
    public async Task StopControllersAsync()
    {
        if (_stopControllers is null || _controllers is null)
        {
            return;
        }

        await _stopControllers.CancelAsync();
        await _controllers;
        _stopControllers.Dispose();
        _stopControllers = null;
        _controllers = null;
    }
}
