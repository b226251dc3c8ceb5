using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Events;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// Writes kubelet's core/v1 Events about pods and the node, in the background (source component kubelet, host = the
/// node). Repeats and floods are folded by Switchboard.Kube's <see cref="EventCorrelator"/> (client-go's): a repeat
/// patches the event already written. Writes go out one after another, in order; a lost event is logged, never retried.
/// </summary>
internal sealed partial class NodeEvents(IKubernetes client, string nodeName, TimeProvider time, ILogger logger)
{
    private readonly EventCorrelator _correlator = new(time);
    private readonly EventSource _source = new("kubelet", nodeName);
    private readonly Lock _lock = new();
    private Task _tail = Task.CompletedTask;

    public void Pod(V1Pod pod, string? container, string type, string reason, string message) => Write(new V1ObjectReference
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Name = pod.Metadata.Name,
        NamespaceProperty = pod.Metadata.NamespaceProperty,
        Uid = pod.Metadata.Uid,
        FieldPath = container is null ? null
            : pod.Spec.InitContainers?.Any(c => c.Name == container) == true ? $"spec.initContainers{{{container}}}"
            : EphemeralContainers.Contains(pod, container) ? $"spec.ephemeralContainers{{{container}}}"
            : $"spec.containers{{{container}}}",
    }, type, reason, message);

    public void Node(string type, string reason, string message) =>
        Write(new V1ObjectReference { Kind = "Node", Name = nodeName, Uid = nodeName }, type, reason, message);

    private void Write(V1ObjectReference regarding, string type, string reason, string message)
    {
        lock (_lock)
        {
            var correlation = _correlator.Correlate(_correlator.NewEvent(_source, regarding, type, reason, message));
            _tail = WriteAfterAsync(_tail, correlation);
        }
    }

    private async Task WriteAfterAsync(Task previous, EventCorrelation correlation)
    {
        await previous;
        var e = correlation.Event;
        try
        {
            if (correlation.UpdatesExisting)
            {
                try
                {
                    await client.CoreV1.PatchNamespacedEventAsync(new V1Patch(correlation.Patch.ToJsonString(), V1Patch.PatchType.MergePatch), e.Metadata.Name, e.Metadata.NamespaceProperty);
                    return;
                }
                catch (HttpOperationException error) when (error.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    // The event expired or was deleted: write it anew.
                }
            }

            await client.CoreV1.CreateNamespacedEventAsync(e, e.Metadata.NamespaceProperty);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLost(logger, e.Reason, ex.Message);
        }
    }

    [LoggerMessage(EventId = 5000, Level = LogLevel.Debug, Message = "Event {Reason} not written: {Error}")]
    private static partial void LogLost(ILogger logger, string reason, string error);
}
