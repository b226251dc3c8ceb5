using System.Globalization;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Switchboard.Controllers.Shared;

/// <summary>
/// Writes core/v1 Events about objects (what <c>kubectl describe</c> lists) in the background, so a controller never
/// waits on them; a lost event is logged, never retried.
/// </summary>
internal sealed partial class EventRecorder
{
    private readonly IKubernetes _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Corev1Event> _pending = Channel.CreateUnbounded<Corev1Event>(new UnboundedChannelOptions { SingleReader = true });
    private long _sequence;

    public EventRecorder(IKubernetes client, TimeProvider time, ILogger logger)
    {
        _client = client;
        _time = time;
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
                    await _client.CoreV1.CreateNamespacedEventAsync(e, e.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
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

    private void Record(IKubernetesObject<V1ObjectMeta> obj, string component, string type, string reason, string message)
    {
        var now = _time.GetUtcNow();
        string ns = obj.Metadata.NamespaceProperty ?? "default";
        long unique = (now.ToUnixTimeMilliseconds() * 1_000_000) + (Interlocked.Increment(ref _sequence) % 1_000_000);
        var e = new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = $"{obj.Metadata.Name}.{unique.ToString("x", CultureInfo.InvariantCulture)}", NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = obj.ApiVersion,
                Kind = obj.Kind,
                Name = obj.Metadata.Name,
                NamespaceProperty = obj.Metadata.NamespaceProperty,
                Uid = obj.Metadata.Uid,
                ResourceVersion = obj.Metadata.ResourceVersion,
            },
            Reason = reason,
            Message = message,
            Type = type,
            Source = new V1EventSource { Component = component },
            ReportingComponent = component,
            FirstTimestamp = now.UtcDateTime,
            LastTimestamp = now.UtcDateTime,
            Count = 1,
        };
        _pending.Writer.TryWrite(e);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {Reason} about {Name} not recorded")]
    private static partial void LogLost(ILogger logger, string reason, string name, Exception error);
}
