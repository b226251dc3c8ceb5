using Microsoft.Extensions.Logging;
using Switchboard.Kube.Queues;

namespace Switchboard.Controllers.Shared;

/// <summary>A controller as client-go shapes them: informer handlers enqueue keys, workers reconcile one key at a time.</summary>
internal abstract class QueueController
{
    protected QueueController(ControllerContext context, string name)
    {
        Context = context;
        Name = name;
        Logger = context.LoggerFactory.CreateLogger(GetType());
        Queue = new WorkQueue<string>(context.Time, name: name, metrics: context.QueueMetrics);
    }

    public string Name { get; }

    protected ControllerContext Context { get; }

    protected ILogger Logger { get; }

    protected WorkQueue<string> Queue { get; }

    /// <summary>How many keys are reconciled at once.</summary>
    protected virtual int Workers => Context.Options.Workers;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(Queue.ShutDown);
        await QueueWorkers.RunAsync(Queue, Workers, SyncAsync, Logger, cancellationToken);
    }

    /// <summary>Brings the world in line for one key; throwing requeues the key with backoff.</summary>
    protected abstract Task SyncAsync(string key, CancellationToken cancellationToken);
}
