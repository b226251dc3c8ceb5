using k8s;
using Microsoft.Extensions.Logging;
using Switchboard.Controllers.Endpoints;
using Switchboard.Controllers.GarbageCollection;
using Switchboard.Controllers.Namespaces;
using Switchboard.Controllers.Scheduling;
using Switchboard.Controllers.Shared;
using Switchboard.Controllers.Workloads;
using Switchboard.Kube.Client;
using Switchboard.Kube.Queues;

namespace Switchboard.Controllers;

/// <summary>
/// Runs Switchboard's control loops against a Kubernetes API server: deployments, replica sets, scheduling, endpoints,
/// endpoint slices, garbage collection and namespace deletion. Everything goes through the API (list+watch, writes),
/// so it works with any API server. Each start lists everything first, so a restart converges without duplicates.
/// </summary>
public static partial class ControllerManager
{
    /// <summary>Runs with a client for the kubeconfig's current context until cancelled.</summary>
    public static async Task RunAsync(string kubeconfigPath, ControllerOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        using var client = KubeClients.FromKubeconfig(kubeconfigPath);
        await RunAsync(client, options, loggerFactory, cancellationToken);
    }

    /// <summary>Runs with <paramref name="client"/> until cancelled; returns once every loop has stopped.</summary>
    public static async Task RunAsync(IKubernetes client, ControllerOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var logger = loggerFactory.CreateLogger("Switchboard.Controllers.ControllerManager");
        var informers = new SharedInformers(client, loggerFactory, options.Time, options.ResyncPeriod);
        var events = new EventRecorder(client, options.Time, loggerFactory.CreateLogger("Switchboard.Controllers.Events"));
        var queueMetrics = options.Metrics is { } registry ? new WorkQueueMetrics(registry) : null;
        var context = new ControllerContext(client, informers, events, options, loggerFactory, queueMetrics);
        var endpointTriggers = new EndpointTriggers(informers);
        var controllers = new List<QueueController>
        {
            new DeploymentController(context),
            new ReplicaSetController(context),
            new EndpointsController(context, endpointTriggers),
            new EndpointSliceController(context, endpointTriggers),
            new GarbageCollector(context),
            new NamespaceController(context),
        };
        if (options.EnableScheduler)
        {
            controllers.Add(new Scheduler(context));
        }

        var running = new List<Task> { informers.RunAsync(cancellationToken), events.RunAsync(cancellationToken) };
        try
        {
            await informers.WaitForSyncAsync(cancellationToken);
            LogSynced(logger, string.Join(", ", controllers.Select(c => c.Name)));
            options.OnSynced?.Invoke();
            running.AddRange(controllers.Select(c => c.RunAsync(cancellationToken)));
            await Task.WhenAll(running);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Task.WhenAll(running);
        }

        LogStopped(logger);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Caches synced; running controllers: {Controllers}")]
    private static partial void LogSynced(ILogger logger, string controllers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controllers stopped")]
    private static partial void LogStopped(ILogger logger);
}
