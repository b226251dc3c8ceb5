using Microsoft.Extensions.Logging;
using Switchboard.Controllers.Accounts;
using Switchboard.Controllers.Disruption;
using Switchboard.Controllers.Endpoints;
using Switchboard.Controllers.GarbageCollection;
using Switchboard.Controllers.Namespaces;
using Switchboard.Controllers.Nodes;
using Switchboard.Controllers.Rbac;
using Switchboard.Controllers.Scheduling;
using Switchboard.Controllers.Shared;
using Switchboard.Controllers.Workloads;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;
using Switchboard.Kube.Queues;

namespace Switchboard.Controllers;

/// <summary>
/// Runs Switchboard's control loops against a Kubernetes API server: deployments, replica sets, stateful sets, daemon
/// sets, jobs, cron jobs and finished jobs' TTL, scheduling, endpoints, endpoint slices, garbage collection, namespace
/// deletion, disruption budgets, node pod CIDRs and node lifecycle (taints, eviction), default service accounts, the
/// root CA in every namespace and ClusterRole aggregation. Everything goes through the API (list+watch, writes),
/// so it works with any API server. Each start lists everything first, so a restart converges without duplicates;
/// it is ready once every informer has listed its collection.
/// </summary>
public sealed partial class ControllerManager(ControllerOptions options, KubeClientSource client, MetricsRegistry metrics, ILoggerFactory loggerFactory)
    : Component(ComponentName)
{
    public const string ComponentName = "controllers";

    private readonly ILogger _logger = loggerFactory.CreateLogger<ControllerManager>();

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        var informers = new SharedInformers(client, loggerFactory, options.Time, options.ResyncPeriod);
        var events = new EventRecorder(client.Client, options.Time, loggerFactory.CreateLogger<EventRecorder>());
        var context = new ControllerContext(client.Client, informers, events, options, loggerFactory, new WorkQueueMetrics(metrics));
        var endpointTriggers = new EndpointTriggers(informers);
        var controllers = new List<QueueController>
        {
            new DeploymentController(context),
            new ReplicaSetController(context),
            new StatefulSetController(context),
            new DaemonSetController(context),
            new JobController(context),
            new CronJobController(context),
            new TtlAfterFinishedController(context),
            new EndpointsController(context, endpointTriggers),
            new EndpointSliceController(context, endpointTriggers),
            new GarbageCollector(context),
            new NamespaceController(context),
            new ServiceAccountController(context),
            new ClusterRoleAggregationController(context),
            new DisruptionController(context),
            new UnschedulableTaintController(context),
            new NodeLifecycleController(context),
        };
        if (options.ClusterCidr is { } clusterCidr)
        {
            controllers.Add(new NodeIpamController(context, clusterCidr));
        }

        if (options.RootCaFile is { } rootCaFile)
        {
            controllers.Add(new RootCaPublisher(context, await File.ReadAllTextAsync(rootCaFile, stoppingToken)));
        }

        if (options.EnableScheduler)
        {
            controllers.Add(new Scheduler(context));
        }

        var running = new List<Task> { informers.RunAsync(stoppingToken), events.RunAsync(stoppingToken) };
        try
        {
            await informers.WaitForSyncAsync(stoppingToken);
            LogSynced(_logger, string.Join(", ", controllers.Select(c => c.Name)));
            MarkReady();
            running.AddRange(controllers.Select(c => c.RunAsync(stoppingToken)));
            await Task.WhenAll(running);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await Task.WhenAll(running);
        }

        LogStopped(_logger);
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Caches synced; running controllers: {Controllers}")]
    private static partial void LogSynced(ILogger logger, string controllers);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Controllers stopped")]
    private static partial void LogStopped(ILogger logger);
}
