using k8s;
using Microsoft.Extensions.Logging;

namespace Switchboard.Controllers.Shared;

/// <summary>What every controller gets: the client, the shared informers, the event recorder, options, time and logging.</summary>
internal sealed record ControllerContext(
    IKubernetes Client,
    SharedInformers Informers,
    EventRecorder Events,
    ControllerOptions Options,
    ILoggerFactory LoggerFactory)
{
    public TimeProvider Time => Options.Time;
}
