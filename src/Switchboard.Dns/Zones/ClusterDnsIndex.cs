using k8s.Models;

namespace Switchboard.Dns.Zones;

/// <summary>
/// The cluster zone's source of truth. Whoever watches the Kubernetes API hands objects in; each change
/// takes back what the object contributed before, adds what it contributes now, and publishes a new
/// immutable <see cref="ClusterZoneSnapshot"/> with a volatile write, so queries never take a lock.
/// Until <see cref="MarkSynced"/> negative answers are SERVFAIL.
/// </summary>
public sealed class ClusterDnsIndex
{
    private readonly Lock _gate = new();
    private readonly ClusterZoneOptions _options;
    private readonly string _domain;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<ObjectKey, V1Service> _services = [];
    private readonly Dictionary<ObjectKey, V1EndpointSlice> _slices = [];
    private readonly Dictionary<ObjectKey, HashSet<ObjectKey>> _slicesByService = [];
    private readonly Dictionary<ObjectKey, V1Pod> _pods = [];
    private readonly HashSet<string> _namespaces = new(StringComparer.Ordinal);
    private readonly Dictionary<Contributor, ZoneContributions> _contributions = [];
    private ZoneModel _model;
    private bool _synced;
    private ClusterZoneSnapshot _snapshot;

    public ClusterDnsIndex(ClusterZoneOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _domain = options.Domain.TrimEnd('.').ToLowerInvariant();
        if (_domain.Length == 0 || !Wire.DnsName.TryParse(_domain, out _))
        {
            throw new ArgumentException($"'{options.Domain}' is not a valid cluster domain", nameof(options));
        }

        _options = options;
        _timeProvider = timeProvider;
        (_model, _snapshot) = Rebuild();
    }

    public bool IsSynced => Volatile.Read(ref _snapshot).Synced;

    internal ClusterZoneSnapshot Snapshot => Volatile.Read(ref _snapshot);

    public void SetService(V1Service service)
    {
        ArgumentNullException.ThrowIfNull(service);
        ObjectKey key = ObjectKey.Of(service.Metadata);
        Change(() =>
        {
            _services[key] = service;
            return [Contributor.Service(key)];
        });
    }

    public void RemoveService(V1Service service)
    {
        ArgumentNullException.ThrowIfNull(service);
        ObjectKey key = ObjectKey.Of(service.Metadata);
        Change(() =>
        {
            _services.Remove(key);
            return [Contributor.Service(key)];
        });
    }

    /// <summary>Adds or updates a slice; the service it belonged to before and the one it belongs to now are both recomputed.</summary>
    public void SetEndpointSlice(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        ObjectKey key = ObjectKey.Of(slice.Metadata);
        Change(() =>
        {
            ObjectKey? before = _slices.TryGetValue(key, out V1EndpointSlice? old) ? ServiceOf(key, old) : null;
            ObjectKey? after = ServiceOf(key, slice);
            Unlink(key, before);
            _slices[key] = slice;
            Link(key, after);
            return [.. new[] { before, after }.OfType<ObjectKey>().Distinct().Select(Contributor.Service)];
        });
    }

    public void RemoveEndpointSlice(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        ObjectKey key = ObjectKey.Of(slice.Metadata);
        Change(() =>
        {
            if (!_slices.Remove(key, out V1EndpointSlice? old))
            {
                return [];
            }

            ObjectKey? service = ServiceOf(key, old);
            Unlink(key, service);
            return service is { } s ? [Contributor.Service(s)] : [];
        });
    }

    public void SetPod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ObjectKey key = ObjectKey.Of(pod.Metadata);
        Change(() =>
        {
            _pods[key] = pod;
            return [Contributor.Pod(key)];
        });
    }

    public void RemovePod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ObjectKey key = ObjectKey.Of(pod.Metadata);
        Change(() =>
        {
            _pods.Remove(key);
            return [Contributor.Pod(key)];
        });
    }

    public void SetNamespace(V1Namespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        string name = ObjectKey.Of(ns.Metadata).Name;
        Change(() =>
        {
            _namespaces.Add(name);
            return [Contributor.Namespace(name)];
        });
    }

    public void RemoveNamespace(V1Namespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        string name = ObjectKey.Of(ns.Metadata).Name;
        Change(() =>
        {
            _namespaces.Remove(name);
            return [Contributor.Namespace(name)];
        });
    }

    /// <summary>Replaces everything at once (an informer's initial list) with a single rebuild.</summary>
    public void ReplaceAll(IEnumerable<V1Namespace> namespaces, IEnumerable<V1Service> services, IEnumerable<V1EndpointSlice> slices, IEnumerable<V1Pod> pods)
    {
        lock (_gate)
        {
            _namespaces.Clear();
            _namespaces.UnionWith(namespaces.Select(n => ObjectKey.Of(n.Metadata).Name));
            _services.Clear();
            foreach (V1Service service in services)
            {
                _services[ObjectKey.Of(service.Metadata)] = service;
            }

            _slices.Clear();
            _slicesByService.Clear();
            foreach (V1EndpointSlice slice in slices)
            {
                ObjectKey key = ObjectKey.Of(slice.Metadata);
                _slices[key] = slice;
                Link(key, ServiceOf(key, slice));
            }

            _pods.Clear();
            foreach (V1Pod pod in pods)
            {
                _pods[ObjectKey.Of(pod.Metadata)] = pod;
            }

            ZoneModel model;
            (model, ClusterZoneSnapshot snapshot) = Rebuild();
            _model = model;
            Volatile.Write(ref _snapshot, snapshot);
        }
    }

    /// <summary>The watches have delivered their initial state: negative answers become authoritative.</summary>
    public void MarkSynced() => Change(() =>
    {
        _synced = true;
        return [];
    });

    /// <summary>Applies a mutation under the lock; it returns the contributors whose records it may have changed.</summary>
    private void Change(Func<Contributor[]> mutate)
    {
        lock (_gate)
        {
            foreach (Contributor contributor in mutate())
            {
                Recontribute(_model, contributor);
            }

            Volatile.Write(ref _snapshot, Publish(_model, _snapshot));
        }
    }

    /// <summary>A model and snapshot built from scratch out of every object held.</summary>
    private (ZoneModel Model, ClusterZoneSnapshot Snapshot) Rebuild()
    {
        var model = new ZoneModel(_domain);
        _contributions.Clear();
        IEnumerable<Contributor> all = [
            Contributor.Apex,
            .. _namespaces.Select(Contributor.Namespace),
            .. _services.Keys.Select(Contributor.Service),
            .. _pods.Keys.Select(Contributor.Pod),
        ];
        foreach (Contributor contributor in all)
        {
            Recontribute(model, contributor);
        }

        return (model, Publish(model, previous: null));
    }

    private ClusterZoneSnapshot Publish(ZoneModel model, ClusterZoneSnapshot? previous)
    {
        // The SOA serial is the time of the last change, as in CoreDNS.
        uint serial = (uint)_timeProvider.GetUtcNow().ToUnixTimeSeconds();
        return model.Publish(previous, _options.Pods, _options.Ttl, serial, _synced);
    }

    /// <summary>Takes back what a contributor put into the model and puts in what it contributes now.</summary>
    private void Recontribute(ZoneModel model, Contributor contributor)
    {
        if (_contributions.Remove(contributor, out ZoneContributions? old))
        {
            model.Remove(old.Items);
        }

        ZoneContributions? now = Contribute(contributor);
        if (now is not null)
        {
            now.ShareNames(model.Shared);
            model.Add(now.Items);
            _contributions[contributor] = now;
        }
    }

    private ZoneContributions? Contribute(Contributor contributor)
    {
        var zone = new ZoneContributions(_domain);
        ObjectKey key = contributor.Key;
        switch (contributor.Kind)
        {
            case ContributorKind.Apex:
                ClusterRecords.AddApex(zone, _options);
                break;
            case ContributorKind.Namespace when _namespaces.Contains(key.Name):
                ClusterRecords.AddNamespace(zone, key.Name, _options);
                break;
            case ContributorKind.Service when _services.TryGetValue(key, out V1Service? service):
                // A namespace with a service in it exists, whether or not its Namespace object was handed in.
                ClusterRecords.AddNamespace(zone, key.Namespace, _options);
                IEnumerable<V1EndpointSlice> slices = _slicesByService.TryGetValue(key, out HashSet<ObjectKey>? owned) ? owned.Select(s => _slices[s]) : [];
                ClusterRecords.AddService(zone, service, slices, _options.Ttl);
                break;
            case ContributorKind.Pod when _pods.TryGetValue(key, out V1Pod? pod):
                ClusterRecords.AddNamespace(zone, key.Namespace, _options);
                if (_options.Pods == PodRecordMode.Verified)
                {
                    ClusterRecords.AddPod(zone, pod, _options.Ttl);
                }

                break;
            default:
                return null;
        }

        zone.TrimExcess();
        return zone;
    }

    private static ObjectKey? ServiceOf(ObjectKey slice, V1EndpointSlice value) =>
        value.Metadata?.Labels?.TryGetValue(ClusterRecords.ServiceNameLabel, out string? service) == true && !string.IsNullOrEmpty(service)
            ? new ObjectKey(slice.Namespace, service.ToLowerInvariant())
            : null;

    private void Link(ObjectKey slice, ObjectKey? service)
    {
        if (service is { } s)
        {
            if (!_slicesByService.TryGetValue(s, out HashSet<ObjectKey>? owned))
            {
                owned = [];
                _slicesByService[s] = owned;
            }

            owned.Add(slice);
        }
    }

    private void Unlink(ObjectKey slice, ObjectKey? service)
    {
        if (service is { } s && _slicesByService.TryGetValue(s, out HashSet<ObjectKey>? owned))
        {
            owned.Remove(slice);
            if (owned.Count == 0)
            {
                _slicesByService.Remove(s);
            }
        }
    }

    private enum ContributorKind
    {
        Apex,
        Namespace,
        Service,
        Pod,
    }

    private readonly record struct ObjectKey(string Namespace, string Name)
    {
        public static ObjectKey Of(V1ObjectMeta? metadata) =>
            new((metadata?.NamespaceProperty ?? "default").ToLowerInvariant(), (metadata?.Name ?? string.Empty).ToLowerInvariant());
    }

    /// <summary>Who put something into the zone: the apex itself, a namespace, a service (with its slices) or a pod.</summary>
    private readonly record struct Contributor(ContributorKind Kind, ObjectKey Key)
    {
        public static Contributor Apex => new(ContributorKind.Apex, default);

        public static Contributor Namespace(string name) => new(ContributorKind.Namespace, new ObjectKey(string.Empty, name));

        public static Contributor Service(ObjectKey key) => new(ContributorKind.Service, key);

        public static Contributor Pod(ObjectKey key) => new(ContributorKind.Pod, key);
    }
}
