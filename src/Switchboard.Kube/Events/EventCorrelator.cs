using System.Globalization;
using k8s;
using k8s.Models;
using Switchboard.Kube.Serialization;

namespace Switchboard.Kube.Events;

/// <summary>
/// client-go's EventCorrelator (tools/record/events_cache.go) for core/v1 Events, shared by every component that
/// reports them. An event identical to one written before (same source, object, type, reason and message) becomes an
/// update of that one: same name and firstTimestamp, count one more. Once more than <see cref="MaxSimilarEvents"/>
/// messages of the same reason about the same object arrive within <see cref="AggregationWindow"/>, they fold into one
/// "(combined from similar events)" event that counts the rest. client-go's spam filter (a token bucket per object)
/// is not kept: our components report far too few events to need it. Thread-safe.
/// </summary>
public sealed class EventCorrelator
{
    public const int MaxSimilarEvents = 10;
    public const int CacheEntries = 4096;
    public static readonly TimeSpan AggregationWindow = TimeSpan.FromMinutes(10);

    private const string CombinedPrefix = "(combined from similar events): ";

    private readonly TimeProvider _time;
    private readonly object _lock = new();
    private readonly LruCache<(HashSet<string> Messages, DateTimeOffset Last)> _similar = new(CacheEntries);
    private readonly LruCache<(string Name, int Count, DateTime? FirstTimestamp)> _written = new(CacheEntries);
    private long _lastNanos;

    public EventCorrelator(TimeProvider time) => _time = time;

    /// <summary>
    /// A new event about <paramref name="regarding"/> as client-go's recorder makes one: named after the object and
    /// the time in nanoseconds (unique: never the same twice from this correlator), in the object's namespace
    /// (<c>default</c> for a cluster-scoped one), count 1.
    /// </summary>
    public Corev1Event NewEvent(EventSource source, V1ObjectReference regarding, string type, string reason, string message, string? action = null)
    {
        var (name, now) = UniqueName(regarding.Name);
        return new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = string.IsNullOrEmpty(regarding.NamespaceProperty) ? "default" : regarding.NamespaceProperty },
            InvolvedObject = regarding,
            Type = type,
            Reason = reason,
            Message = message,
            Action = action,
            Source = new V1EventSource { Component = source.Component, Host = source.Host },
            ReportingComponent = source.Component,
            ReportingInstance = source.Host,
            FirstTimestamp = Seconds(now),
            LastTimestamp = Seconds(now),
            Count = 1,
        };
    }

    /// <summary>The reference an event keeps to the object it is about.</summary>
    public static V1ObjectReference Reference(IKubernetesObject<V1ObjectMeta> obj) => new()
    {
        ApiVersion = obj.ApiVersion,
        Kind = obj.Kind,
        Name = obj.Metadata.Name,
        NamespaceProperty = obj.Metadata.NamespaceProperty,
        Uid = obj.Metadata.Uid,
        ResourceVersion = obj.Metadata.ResourceVersion,
    };

    /// <summary>What to write for <paramref name="newEvent"/>, given the events correlated before it.</summary>
    public EventCorrelation Correlate(Corev1Event newEvent)
    {
        lock (_lock)
        {
            var (e, key) = Aggregate(newEvent);
            if (_written.TryGetValue(key, out var last))
            {
                e.Metadata.Name = last.Name;
                e.FirstTimestamp = last.FirstTimestamp;
                e.Count = last.Count + 1;
            }

            _written.Set(key, (e.Metadata.Name, e.Count ?? 1, e.FirstTimestamp));
            return new EventCorrelation(e, e.Count > 1);
        }
    }

    /// <summary>
    /// EventAggregate: the event itself under its own key, or, when its reason has had too many distinct messages about
    /// the object lately, a combined event under the key of the reason.
    /// </summary>
    private (Corev1Event Event, string Key) Aggregate(Corev1Event e)
    {
        var now = _time.GetUtcNow();
        string reasonKey = ReasonKey(e);
        if (!_similar.TryGetValue(reasonKey, out var similar) || now - similar.Last > AggregationWindow)
        {
            similar = (new HashSet<string>(StringComparer.Ordinal), now);
        }

        similar.Messages.Add(e.Message ?? "");
        _similar.Set(reasonKey, (similar.Messages, now));
        if (similar.Messages.Count < MaxSimilarEvents)
        {
            return (ModelJson.Clone(e), EventKey(e));
        }

        // Keep the set one short of the limit, so that every further distinct message still counts as one more.
        similar.Messages.Remove(similar.Messages.First());
        var (name, stamp) = UniqueName(e.InvolvedObject.Name);
        var combined = ModelJson.Clone(e);
        combined.Metadata.Name = name;
        combined.Message = CombinedPrefix + e.Message;
        combined.FirstTimestamp = Seconds(stamp);
        combined.LastTimestamp = Seconds(stamp);
        combined.Count = 1;
        return (combined, reasonKey);
    }

    /// <summary>getEventKey: what makes two events the same event.</summary>
    private static string EventKey(Corev1Event e) =>
        string.Join('\u0000', e.Source?.Component, e.Source?.Host, e.InvolvedObject.Kind, e.InvolvedObject.NamespaceProperty, e.InvolvedObject.Name,
            e.InvolvedObject.FieldPath, e.InvolvedObject.Uid, e.InvolvedObject.ApiVersion, e.Type, e.Reason, e.Message);

    /// <summary>EventAggregatorByReasonFunc: what makes events similar, whatever their message.</summary>
    private static string ReasonKey(Corev1Event e) =>
        string.Join('\u0000', e.Source?.Component, e.Source?.Host, e.InvolvedObject.Kind, e.InvolvedObject.NamespaceProperty, e.InvolvedObject.Name,
            e.InvolvedObject.Uid, e.InvolvedObject.ApiVersion, e.Type, e.Reason, e.ReportingComponent, e.ReportingInstance);

    /// <summary>An event timestamp: whole seconds, as metav1.Time serializes.</summary>
    private static DateTime Seconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    /// <summary><c>NAME.HEX</c> of the time in nanoseconds since the epoch, bumped past the last one handed out.</summary>
    private (string Name, DateTimeOffset Now) UniqueName(string objectName)
    {
        var now = _time.GetUtcNow();
        long nanos = (now - DateTimeOffset.UnixEpoch).Ticks * 100;
        long unique;
        long seen;
        do
        {
            seen = Interlocked.Read(ref _lastNanos);
            unique = Math.Max(nanos, seen + 1);
        }
        while (Interlocked.CompareExchange(ref _lastNanos, unique, seen) != seen);

        return ($"{objectName}.{unique.ToString("x", CultureInfo.InvariantCulture)}", now);
    }
}
