using k8s;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Queues;

namespace Switchboard.Controllers.Shared;

/// <summary>What every controller gets: the client, the shared informers, the event recorder, options, time, logging and queue metrics.</summary>
internal sealed record ControllerContext(
    IKubernetes Client,
    SharedInformers Informers,
    EventRecorder Events,
    ControllerOptions Options,
    ILoggerFactory LoggerFactory,
    WorkQueueMetrics? QueueMetrics)
{
    public TimeProvider Time => Options.Time;
}
