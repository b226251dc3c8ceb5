using System.Net;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Events;

namespace Switchboard.Controllers.Shared;

/// <summary>
/// Writes core/v1 Events about objects (what <c>kubectl describe</c> lists) in the background, so a controller never
/// waits on them. Repeats and floods are folded by Switchboard.Kube's <see cref="EventCorrelator"/> (client-go's): a
/// repeat patches the event already written (count, lastTimestamp). A lost event is logged, never retried.
/// </summary>
internal sealed partial class EventRecorder
{
    private readonly IKubernetes _client;
    private readonly EventCorrelator _correlator;
    private readonly ILogger _logger;
    private readonly Channel<Corev1Event> _pending = Channel.CreateUnbounded<Corev1Event>(new UnboundedChannelOptions { SingleReader = true });

    public EventRecorder(IKubernetes client, TimeProvider time, ILogger logger)
    {
        _client = client;
        _correlator = new EventCorrelator(time);
        _logger = logger;
    }

    public void Normal(IKubernetesObject<V1ObjectMeta> obj, string component, string reason, string message) => Record(obj, component, "Normal", reason, message);

    public void Warning(IKubernetesObject<V1ObjectMeta> obj, string component, string reason, string message) => Record(obj, component, "Warning", reason, message);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in _pending.Reader.ReadAllAsync(cancellationToken))
            {
                try
                {
                    await WriteAsync(_correlator.Correlate(e), cancellationToken);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    LogLost(_logger, e.Reason, e.InvolvedObject.Name, error);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: unsent events are dropped.
        }
    }

    private async Task WriteAsync(EventCorrelation correlation, CancellationToken cancellationToken)
    {
        var e = correlation.Event;
        if (correlation.UpdatesExisting)
        {
            try
            {
                await _client.CoreV1.PatchNamespacedEventAsync(new V1Patch(correlation.Patch.ToJsonString(), V1Patch.PatchType.MergePatch), e.Metadata.Name, e.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
                return;
            }
            catch (HttpOperationException error) when (error.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // The event expired or was deleted: write it anew.
            }
        }

        await _client.CoreV1.CreateNamespacedEventAsync(e, e.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
    }

    private void Record(IKubernetesObject<V1ObjectMeta> obj, string component, string type, string reason, string message) =>
        _pending.Writer.TryWrite(_correlator.NewEvent(new EventSource(component), EventCorrelator.Reference(obj), type, reason, message));

    [LoggerMessage(EventId = 2020, Level = LogLevel.Debug, Message = "Event {Reason} about {Name} not recorded")]
    private static partial void LogLost(ILogger logger, string reason, string name, Exception error);
}
