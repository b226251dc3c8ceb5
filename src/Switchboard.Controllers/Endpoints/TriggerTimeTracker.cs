using System.Collections.Concurrent;
using k8s.Models;

namespace Switchboard.Controllers.Endpoints;

/// <summary>
/// upstream's TriggerTimeTracker: the <c>endpoints.kubernetes.io/last-change-trigger-time</c> of a sync is the earliest
/// of the changes it is the first to reflect: a pod's Ready condition transition newer than the last sync saw, or the
/// service's creation. Null when nothing new triggered the sync (the annotation is then left off).
/// </summary>
internal sealed class TriggerTimeTracker
{
    public const string Annotation = "endpoints.kubernetes.io/last-change-trigger-time";

    private readonly ConcurrentDictionary<string, State> _states = new(StringComparer.Ordinal);

    /// <summary>The trigger time for syncing <paramref name="service"/> (key <paramref name="key"/>) with <paramref name="pods"/>.</summary>
    public DateTime? Compute(string key, V1Service service, IEnumerable<V1Pod> pods)
    {
        var before = _states.GetValueOrDefault(key) ?? new State(new Dictionary<string, DateTime>(StringComparer.Ordinal), null);
        var now = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        DateTime? earliest = null;
        foreach (var pod in pods)
        {
            if (pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.LastTransitionTime is not { } changed)
            {
                continue;
            }

            changed = changed.ToUniversalTime();
            now[pod.Metadata.Name] = changed;
            if (!before.Pods.TryGetValue(pod.Metadata.Name, out var seen) || changed > seen)
            {
                earliest = Earliest(earliest, changed);
            }
        }

        var created = service.Metadata.CreationTimestamp?.ToUniversalTime();
        if (created is { } c && (before.Service is null || c > before.Service))
        {
            earliest = Earliest(earliest, c);
        }

        _states[key] = new State(now, created);
        return earliest;
    }

    public void Forget(string key) => _states.TryRemove(key, out _);

    /// <summary>The annotation value: RFC 3339 with fractional seconds, as Go's RFC3339Nano.</summary>
    public static string Format(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static DateTime Earliest(DateTime? a, DateTime b) => a is { } x && x < b ? x : b;

    private sealed record State(Dictionary<string, DateTime> Pods, DateTime? Service);
}
