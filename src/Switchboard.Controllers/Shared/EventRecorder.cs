using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Switchboard.Controllers.Shared;

/// <summary>
/// Writes core/v1 Events about objects (what <c>kubectl describe</c> lists) in the background, so a controller never
/// waits on them. A repeat of an event already written (same source, object, type, reason and message) updates that
/// event's count and lastTimestamp instead of adding one, as client-go's event correlator does. A lost event is
/// logged, never retried.
/// </summary>
internal sealed partial class EventRecorder
{
    private const int MaxRemembered = 4096;
    private readonly IKubernetes _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Corev1Event> _pending = Channel.CreateUnbounded<Corev1Event>(new UnboundedChannelOptions { SingleReader = true });

    // Events written, by what makes two events the same; only the reader touches it. Oldest forgotten first.
    private readonly Dictionary<string, (string Name, int Count, LinkedListNode<string> Age)> _written = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _byAge = new();
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
                    await WriteAsync(e, cancellationToken);
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

    private async Task WriteAsync(Corev1Event e, CancellationToken cancellationToken)
    {
        string ns = e.Metadata.NamespaceProperty;
        var o = e.InvolvedObject;
        string key = string.Join('\u0000', e.Source.Component, o.Kind, o.NamespaceProperty, o.Name, o.Uid, o.ApiVersion, e.Type, e.Reason, e.Message);
        if (_written.TryGetValue(key, out var seen))
        {
            int count = seen.Count + 1;
            var patch = new JsonObject { ["count"] = count, ["lastTimestamp"] = Json.Node(e.LastTimestamp) };
            try
            {
                await _client.CoreV1.PatchNamespacedEventAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), seen.Name, ns, cancellationToken: cancellationToken);
                _byAge.Remove(seen.Age);
                _byAge.AddLast(seen.Age);
                _written[key] = (seen.Name, count, seen.Age);
                return;
            }
            catch (HttpOperationException error) when (error.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // The event expired or was deleted: write it anew.
                _byAge.Remove(seen.Age);
                _written.Remove(key);
            }
        }

        var created = await _client.CoreV1.CreateNamespacedEventAsync(e, ns, cancellationToken: cancellationToken);
        _written[key] = (created.Metadata.Name, 1, _byAge.AddLast(key));
        if (_written.Count > MaxRemembered && _byAge.First is { } oldest)
        {
            _written.Remove(oldest.Value);
            _byAge.RemoveFirst();
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
