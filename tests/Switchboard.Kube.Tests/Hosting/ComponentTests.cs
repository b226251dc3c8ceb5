using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Switchboard.Kube.Hosting;
using Switchboard.Testing;

namespace Switchboard.Kube.Tests.Hosting;

/// <summary>The one component shape: readiness reported as kube-apiserver does, and every way to fail naming the component.</summary>
public sealed class ComponentTests
{
    [Fact]
    public async Task Readiness_lists_every_component_and_passes_once_all_are_ready()
    {
        await using var host = await ComponentTestHost.StartAsync(services => services
            .AddComponent("beta", _ => new Probe("beta"))
            .AddComponent("alpha", _ => new OtherProbe("alpha")));
        var readiness = host.Get<Readiness>();
        host.Get<Probe>().Ready();

        var before = await readiness.CheckAsync(component: null, CancellationToken.None);
        var alphaOnly = await readiness.CheckAsync("alpha", CancellationToken.None);

        Assert.Equal((false, "[-]alpha failed: not ready\n[+]beta ok\nreadyz check failed\n"), before);
        Assert.Equal((false, "[-]alpha failed: not ready\nreadyz check failed\n"), alphaOnly);
    }

    [Fact]
    public async Task A_failing_run_stops_the_host_with_an_error_naming_the_component()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddComponent("dns", _ => new Probe("dns", run: _ => Task.FromException(new IOException("listener closed"))));
        using IHost host = builder.Build();
        await host.StartAsync();

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.WaitForShutdownAsync(deadline.Token);

        var failure = Assert.IsType<ComponentException>(host.Services.GetRequiredService<Probe>().ExecuteTask?.Exception?.InnerException);
        Assert.Equal(("dns", "dns failed: listener closed"), (failure.Component, failure.Message));
    }

    [Fact]
    public async Task A_run_that_returns_before_the_host_stops_is_a_failure()
    {
        var probe = new Probe("controllers", run: _ => Task.CompletedTask);
        await probe.StartAsync(CancellationToken.None);

        var failure = await Assert.ThrowsAsync<ComponentException>(() => probe.ExecuteTask!);

        Assert.Equal("controllers failed: stopped on its own", failure.Message);
    }

    [Fact]
    public async Task A_failed_open_closes_what_it_opened_and_names_the_component()
    {
        var probe = new Probe("apiserver", open: () => throw new IOException("address already in use"));

        var failure = await Assert.ThrowsAsync<ComponentException>(() => probe.StartAsync(CancellationToken.None));

        Assert.Equal("apiserver failed: address already in use", failure.Message);
        Assert.True(probe.Closed);
        Assert.Null(probe.ExecuteTask);
    }

    /// <summary>A second component type: a host holds one component of each type.</summary>
    private sealed class OtherProbe(string name) : Probe(name);

    private class Probe(string name, Func<CancellationToken, Task>? run = null, Action? open = null) : Component(name)
    {
        public bool Closed { get; private set; }

        public void Ready() => MarkReady();

        protected override Task OpenAsync(CancellationToken cancellationToken)
        {
            open?.Invoke();
            return Task.CompletedTask;
        }

        protected override Task RunAsync(CancellationToken stoppingToken) => run?.Invoke(stoppingToken) ?? Task.Delay(Timeout.Infinite, stoppingToken);

        protected override Task CloseAsync(CancellationToken cancellationToken)
        {
            Closed = true;
            return Task.CompletedTask;
        }
    }
}
