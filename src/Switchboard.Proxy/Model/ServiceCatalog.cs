using System.Globalization;
using k8s.Models;

namespace Switchboard.Proxy.Model;

/// <summary>
/// The Services and EndpointSlices the proxy has seen (fed by informer events) and the service ports they make.
/// Only services touched since the last <see cref="Snapshot()"/> are recomputed; the others keep their
/// <see cref="ServicePortState"/> instances, so a sync finds the unchanged ones by reference. Endpoints whose
/// <c>nodeName</c> is <paramref name="nodeName"/> are this node's, for the Local traffic policies.
/// </summary>
internal sealed class ServiceCatalog(string? nodeName = null)
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";

    /// <summary>Set by the EndpointSlice controller to when the change that caused a slice's update happened.</summary>
    private const string TriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, V1Service> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, V1EndpointSlice>> _slices = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, IReadOnlyList<ServicePortState>> _ports = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly List<DateTimeOffset> _triggerTimes = [];

    /// <summary>How many services changed since the last snapshot.</summary>
    public int PendingChanges
    {
        get
        {
            lock (_lock)
            {
                return _dirty.Count;
            }
        }
    }

    public void SetService(V1Service service)
    {
        lock (_lock)
        {
            string key = Key(service.Namespace(), service.Name());
            _services[key] = service;
            _dirty.Add(key);
        }
    }

    public void DeleteService(V1Service service)
    {
        lock (_lock)
        {
            string key = Key(service.Namespace(), service.Name());
            _services.Remove(key);
            _dirty.Add(key);
        }
    }

    public void SetSlice(V1EndpointSlice slice) => ChangeSlice(slice, updated: true, (slices, s) => slices[s.Name()] = s);

    public void DeleteSlice(V1EndpointSlice slice) => ChangeSlice(slice, updated: false, (slices, s) => slices.Remove(s.Name()));

    /// <summary>Every service port, ordered by service; recomputes the services that changed since the last call.</summary>
    public IReadOnlyList<ServicePortState> Snapshot() => Snapshot(triggerTimes: null);

    /// <summary>
    /// Every service port, as <see cref="Snapshot()"/>; also moves into <paramref name="triggerTimes"/> the
    /// last-change-trigger-times of the slice changes this snapshot includes, for kube-proxy's network programming latency.
    /// </summary>
    public IReadOnlyList<ServicePortState> Snapshot(ICollection<DateTimeOffset>? triggerTimes)
    {
        lock (_lock)
        {
            foreach (var time in _triggerTimes)
            {
                triggerTimes?.Add(time);
            }

            _triggerTimes.Clear();
            foreach (string key in _dirty)
            {
                if (_services.TryGetValue(key, out var service))
                {
                    var slices = _slices.TryGetValue(key, out var bySlice) ? bySlice.Values : (IEnumerable<V1EndpointSlice>)[];
                    _ports[key] = ServicePortStates.From(service, slices, nodeName);
                }
                else
                {
                    _ports.Remove(key);
                }
            }

            _dirty.Clear();
            return [.. _ports.Values.SelectMany(ports => ports)];
        }
    }

    private void ChangeSlice(V1EndpointSlice slice, bool updated, Action<Dictionary<string, V1EndpointSlice>, V1EndpointSlice> change)
    {
        // A slice belongs to the service its label names; slices without one (made by hand, unowned) are ignored.
        if (slice.Labels()?.TryGetValue(ServiceNameLabel, out string? serviceName) != true || string.IsNullOrEmpty(serviceName))
        {
            return;
        }

        lock (_lock)
        {
            string key = Key(slice.Namespace(), serviceName);
            if (!_slices.TryGetValue(key, out var slices))
            {
                slices = new Dictionary<string, V1EndpointSlice>(StringComparer.Ordinal);
                _slices[key] = slices;
            }

            change(slices, slice);
            // Only a written slice says when its change was triggered; a deleted one carries an old time.
            if (updated && slice.Annotations()?.TryGetValue(TriggerTimeAnnotation, out string? trigger) == true &&
                DateTimeOffset.TryParse(trigger, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                _triggerTimes.Add(time);
            }
            if (slices.Count == 0)
            {
                _slices.Remove(key);
            }

            _dirty.Add(key);
        }
    }

    private static string Key(string ns, string name) => $"{ns}/{name}";
}
