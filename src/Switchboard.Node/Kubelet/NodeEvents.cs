using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// Writes kubelet's core/v1 Events about pods and the node, in the background (source component kubelet, host = the
/// node). A thin local recorder until the shared one in Switchboard.Kube lands; a lost event is logged, never retried.
/// </summary>
internal sealed partial class NodeEvents(IKubernetes client, string nodeName, TimeProvider time, ILogger logger)
{
    public void Pod(V1Pod pod, string? container, string type, string reason, string message) => Write(new Corev1Event
    {
        Metadata = new V1ObjectMeta { Name = Name(pod.Metadata.Name), NamespaceProperty = pod.Metadata.NamespaceProperty },
        InvolvedObject = new V1ObjectReference
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Name = pod.Metadata.Name,
            NamespaceProperty = pod.Metadata.NamespaceProperty,
            Uid = pod.Metadata.Uid,
            FieldPath = container is null ? null : $"spec.containers{{{container}}}",
        },
        Type = type,
        Reason = reason,
        Message = message,
    });

    public void Node(string type, string reason, string message) => Write(new Corev1Event
    {
        Metadata = new V1ObjectMeta { Name = Name(nodeName), NamespaceProperty = "default" },
        InvolvedObject = new V1ObjectReference { Kind = "Node", Name = nodeName, Uid = nodeName },
        Type = type,
        Reason = reason,
        Message = message,
    });

    private string Name(string obj) => $"{obj}.{(time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100:x}".ToString(CultureInfo.InvariantCulture);

    private void Write(Corev1Event e)
    {
        var now = time.GetUtcNow().UtcDateTime;
        e.Source = new V1EventSource { Component = "kubelet", Host = nodeName };
        e.ReportingComponent = "kubelet";
        e.ReportingInstance = nodeName;
        e.FirstTimestamp = now;
        e.LastTimestamp = now;
        e.Count = 1;
        _ = WriteAsync(e);
    }

    private async Task WriteAsync(Corev1Event e)
    {
        try
        {
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
