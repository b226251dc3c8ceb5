using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Switchboard.Kube.Hosting;

/// <summary>
/// One component of a Switchboard process (API server, controllers, DNS, and the node agent and proxy to come), as a
/// hosted service of the .NET Generic Host: <see cref="OpenAsync"/> binds what it serves before the next component
/// starts, <see cref="RunAsync"/> is its work until the host stops, <see cref="CloseAsync"/> releases what it opened.
/// A failure in any of them is a <see cref="ComponentException"/> naming the component, which stops the host
/// (<c>BackgroundServiceExceptionBehavior.StopHost</c>); so is <see cref="RunAsync"/> returning on its own.
/// Its readiness (<see cref="MarkReady"/>) is its health check, the one source of <c>/readyz</c>.
/// Components log through <c>[LoggerMessage]</c> methods, a logger category per type (<c>ILogger&lt;T&gt;</c>), with
/// EventIds in their project's range: command line 100-999, API server 1000s, controllers 2000s, DNS 3000s,
/// storage 4000s, node agent 5000s, proxy 6000s, the shared client code of Switchboard.Kube 7000s.
/// </summary>
public abstract class Component : BackgroundService, IHealthCheck
{
    /// <summary>Set to a component's name, the process fails that component once it is ready: how tests kill one inside <c>switchboard up</c>.</summary>
    public const string FaultVariable = "SWITCHBOARD_FAIL_COMPONENT";

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected Component(string name) => Name = name;

    /// <summary>The name in <c>/readyz</c> and in a failure's message (<c>dns</c>, <c>controllers</c>, …).</summary>
    public string Name { get; }

    public bool IsReady => _ready.Task.IsCompleted;

    /// <summary>Completes once the component is ready (its caches synced, its listeners serving).</summary>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    public sealed override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await OpenAsync(cancellationToken);
        }
        catch (Exception e)
        {
            // Whatever was opened before the failure is closed now: a component that fails to start holds nothing.
            await CloseAsync(CancellationToken.None);
            throw e is OperationCanceledException && cancellationToken.IsCancellationRequested ? e : new ComponentException(Name, e);
        }

        await base.StartAsync(cancellationToken);
    }

    public sealed override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await CloseAsync(cancellationToken);
    }

    Task<HealthCheckResult> IHealthCheck.CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
        Task.FromResult(IsReady ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not ready"));

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            Task run = RunAsync(stoppingToken);
            if (Environment.GetEnvironmentVariable(FaultVariable) == Name)
            {
                await Task.WhenAny(run, WaitUntilReadyAsync(stoppingToken));
                if (!run.IsCompleted)
                {
                    throw new InvalidOperationException($"failed on purpose ({FaultVariable}={Name})");
                }
            }

            await run;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            throw new ComponentException(Name, e);
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            throw new ComponentException(Name, new InvalidOperationException("stopped on its own"));
        }
    }

    /// <summary>Binds listeners and loads state; the host starts the next component only after this returns.</summary>
    protected virtual Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The component's work, until <paramref name="stoppingToken"/> is cancelled.</summary>
    protected abstract Task RunAsync(CancellationToken stoppingToken);

    /// <summary>Releases what <see cref="OpenAsync"/> opened, all or part of it, after <see cref="RunAsync"/> has ended; may be called twice.</summary>
    protected virtual Task CloseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected void MarkReady() => _ready.TrySetResult();
}
