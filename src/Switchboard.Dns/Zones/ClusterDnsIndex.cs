using k8s.Models;

namespace Switchboard.Dns.Zones;

/// <summary>
/// The cluster zone's source of truth. Whoever watches the Kubernetes API hands objects in; every change
/// rebuilds an immutable <see cref="ClusterZoneSnapshot"/> and publishes it with a volatile write, so queries
/// never take a lock. Until <see cref="MarkSynced"/> negative answers are SERVFAIL.
/// </summary>
public sealed class ClusterDnsIndex
{
    private readonly Lock _gate = new();
    private readonly ClusterZoneOptions _options;
    private readonly string _domain;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<(string Namespace, string Name), V1Service> _services = [];
    private readonly Dictionary<(string Namespace, string Name), V1EndpointSlice> _slices = [];
    private readonly Dictionary<(string Namespace, string Name), V1Pod> _pods = [];
    private readonly HashSet<string> _namespaces = new(StringComparer.Ordinal);
    private bool _synced;
    private ClusterZoneSnapshot _snapshot;

    public ClusterDnsIndex(ClusterZoneOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _domain = options.Domain.TrimEnd('.').ToLowerInvariant();
        if (!Wire.DnsName.TryParse(_domain, out _) || _domain.Length == 0)
        {
            throw new ArgumentException($"'{options.Domain}' is not a valid cluster domain", nameof(options));
        }

        _options = options;
        _timeProvider = timeProvider;
        _snapshot = Build();
    }

    public bool IsSynced => Volatile.Read(ref _snapshot).Synced;

    internal ClusterZoneSnapshot Snapshot => Volatile.Read(ref _snapshot);

    public void SetService(V1Service service) => Change(() => _services[Key(service.Metadata)] = service);

    public void RemoveService(V1Service service) => Change(() => _services.Remove(Key(service.Metadata)));

    public void SetEndpointSlice(V1EndpointSlice slice) => Change(() => _slices[Key(slice.Metadata)] = slice);

    public void RemoveEndpointSlice(V1EndpointSlice slice) => Change(() => _slices.Remove(Key(slice.Metadata)));

    public void SetPod(V1Pod pod) => Change(() => _pods[Key(pod.Metadata)] = pod);

    public void RemovePod(V1Pod pod) => Change(() => _pods.Remove(Key(pod.Metadata)));

    public void SetNamespace(V1Namespace ns) => Change(() => _namespaces.Add(Key(ns.Metadata).Name));

    public void RemoveNamespace(V1Namespace ns) => Change(() => _namespaces.Remove(Key(ns.Metadata).Name));

    /// <summary>Replaces everything at once (an informer's initial list) with a single rebuild.</summary>
    public void ReplaceAll(IEnumerable<V1Namespace> namespaces, IEnumerable<V1Service> services, IEnumerable<V1EndpointSlice> slices, IEnumerable<V1Pod> pods) =>
        Change(() =>
        {
            _namespaces.Clear();
            _namespaces.UnionWith(namespaces.Select(n => Key(n.Metadata).Name));
            Refill(_services, services, s => s.Metadata);
            Refill(_slices, slices, s => s.Metadata);
            Refill(_pods, pods, p => p.Metadata);
        });

    /// <summary>The watches have delivered their initial state: negative answers become authoritative.</summary>
    public void MarkSynced() => Change(() => _synced = true);

    private void Change(Action mutate)
    {
        lock (_gate)
        {
            mutate();
            Volatile.Write(ref _snapshot, Build());
        }
    }

    private ClusterZoneSnapshot Build()
    {
        var zone = new ZoneBuilder(_domain);
        uint ttl = _options.Ttl;
        ClusterRecords.AddApex(zone, _options);
        var namespaces = new HashSet<string>(_namespaces, StringComparer.Ordinal);
        namespaces.UnionWith(_services.Keys.Select(k => k.Namespace));
        namespaces.UnionWith(_pods.Keys.Select(k => k.Namespace));
        foreach (string ns in namespaces)
        {
            ClusterRecords.AddNamespace(zone, ns, _options);
        }

        ILookup<(string, string), V1EndpointSlice> slicesByService = _slices.ToLookup(
            s => (s.Key.Namespace, s.Value.Metadata?.Labels?.TryGetValue(ClusterRecords.ServiceNameLabel, out string? svc) == true ? svc : string.Empty),
            s => s.Value);
        foreach (((string ns, string name), V1Service service) in _services)
        {
            ClusterRecords.AddService(zone, service, slicesByService[(ns, name)], ttl);
        }

        if (_options.Pods == PodRecordMode.Verified)
        {
            foreach (V1Pod pod in _pods.Values)
            {
                ClusterRecords.AddPod(zone, pod, ttl);
            }
        }

        // The SOA serial is the time of the last change, as in CoreDNS.
        uint serial = (uint)_timeProvider.GetUtcNow().ToUnixTimeSeconds();
        return zone.Build(_options.Pods, ttl, serial, _synced);
    }

    private static void Refill<T>(Dictionary<(string, string), T> target, IEnumerable<T> items, Func<T, V1ObjectMeta?> metadata)
    {
        target.Clear();
        foreach (T item in items)
        {
            target[Key(metadata(item))] = item;
        }
    }

    private static (string Namespace, string Name) Key(V1ObjectMeta? metadata) =>
        ((metadata?.NamespaceProperty ?? "default").ToLowerInvariant(), (metadata?.Name ?? string.Empty).ToLowerInvariant());
}
