using k8s;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Kube.Hosting;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Fixtures;

/// <summary>
/// A real API server, one fake node and the controller manager on a fake clock that only the test moves: what a
/// controller schedules for later (a CronJob's next run, a Job's failure backoff) happens when the test advances it.
/// </summary>
public sealed class FakeClockCluster : IAsyncLifetime
{
    private FakeNode? _node;
    private ComponentTestHost? _controllers;

    public InProcessApiServer Server { get; } = new();

    public IKubernetes Client => Server.Client;

    /// <summary>The controllers' clock, started at the real time so that it agrees with the server's timestamps.</summary>
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        _node = await FakeNode.StartAsync(Client, "clock-node");
        var options = new ControllerOptions { Workers = 2, Time = Clock };
        string kubeconfig = Server.KubeconfigPath;
        _controllers = await ComponentTestHost.StartAsync(services => services.AddKubeClient(kubeconfig).AddControllers(options));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _controllers.Get<ControllerManager>().WaitUntilReadyAsync(deadline.Token);
    }

    public async Task DisposeAsync()
    {
        if (_controllers is not null)
        {
            await _controllers.DisposeAsync();
        }

        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}
