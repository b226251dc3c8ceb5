using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Storage;

namespace Switchboard.Dns.SkyDns;

/// <summary>
/// Writes every Service into the SkyDNS layout as kube2sky did, through the store:
/// <c>&lt;prefix&gt;/local/cluster/svc/&lt;ns&gt;/&lt;name&gt;/&lt;fnv32a of the value&gt;</c> →
/// <c>{"host":"&lt;clusterIP&gt;","priority":10,"weight":10,"ttl":30,"targetstrip":0}</c> per ClusterIP, an SRV
/// leaf per named port under <c>…/&lt;name&gt;/_&lt;proto&gt;/_&lt;port&gt;/</c>, the target of an ExternalName, and for a
/// headless service one leaf per ready endpoint address (from its EndpointSlices).
/// Changes are queued per service and written by one loop that compares with what the store holds, so a
/// write that failed is simply retried and a restart converges.
/// </summary>
public sealed class SkyDnsServiceMirror
{
    /// <summary>kube2sky's values: priority 10, weight 10, TTL 30.</summary>
    private const int Priority = 10;
    private const int Weight = 10;
    private const uint Ttl = 30;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly IKeyValueStore _store;
    private readonly string _root;
    private readonly string _domain;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Namespace, string Name), V1Service> _services = [];

    // Ready endpoint addresses by service and slice name: a headless service's records.
    private readonly Dictionary<(string Namespace, string Name), Dictionary<string, string[]>> _endpoints = [];
    private readonly HashSet<(string Namespace, string Name)> _pending = [];
    private readonly Channel<(string Namespace, string Name)?> _queue = Channel.CreateUnbounded<(string, string)?>(new UnboundedChannelOptions { SingleReader = true });

    public SkyDnsServiceMirror(IKeyValueStore store, string prefix, string clusterDomain, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _domain = clusterDomain.Trim('.').ToLowerInvariant();
        _root = SkyDnsPath.FromName(prefix.TrimEnd('/'), "svc." + _domain);
        _time = time;
        _logger = logger;
    }

    public void Set(V1Service service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var key = Key(service);
        lock (_gate)
        {
            _services[key] = service;
        }

        Enqueue(key);
    }

    public void Remove(V1Service service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var key = Key(service);
        lock (_gate)
        {
            _services.Remove(key);
        }

        Enqueue(key);
    }

    public void SetEndpointSlice(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (ServiceOf(slice) is not { } key)
        {
            return;
        }

        lock (_gate)
        {
            StoreSlice(key, slice);
        }

        Enqueue(key);
    }

    public void RemoveEndpointSlice(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (ServiceOf(slice) is not { } key)
        {
            return;
        }

        lock (_gate)
        {
            if (_endpoints.TryGetValue(key, out var bySlice) && bySlice.Remove(slice.Metadata?.Name ?? string.Empty) && bySlice.Count == 0)
            {
                _endpoints.Remove(key);
            }
        }

        Enqueue(key);
    }

    /// <summary>The full lists (the informers' initial lists): also removes leaves of services that are gone.</summary>
    public void ReplaceAll(IEnumerable<V1Service> services, IEnumerable<V1EndpointSlice> slices)
    {
        lock (_gate)
        {
            _services.Clear();
            foreach (V1Service service in services)
            {
                _services[Key(service)] = service;
            }

            _endpoints.Clear();
            foreach (V1EndpointSlice slice in slices)
            {
                if (ServiceOf(slice) is { } key)
                {
                    StoreSlice(key, slice);
                }
            }
        }

        _queue.Writer.TryWrite(null);
    }

    /// <summary>The leaves one service should have, key → JSON value.</summary>
    public IReadOnlyDictionary<string, byte[]> LeavesOf(V1Service service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var leaves = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        V1ServiceSpec? spec = service.Spec;
        string path = PathOf(Key(service));
        string owner = $"{Key(service).Name}.{Key(service).Namespace}.svc.{_domain}";
        void Add(string under, SkyDnsRecord record)
        {
            byte[] value = record.ToJson();
            leaves[$"{path}{under}/{Fnv32a(value):x}"] = value;
        }

        if (string.Equals(spec?.Type, "ExternalName", StringComparison.Ordinal))
        {
            if (spec?.ExternalName is { Length: > 0 } target)
            {
                Add(string.Empty, Record(target.TrimEnd('.').ToLowerInvariant()));
            }

            return leaves;
        }

        IEnumerable<string> ips = spec?.ClusterIPs is { Count: > 0 } all ? all : spec?.ClusterIP is { } one ? [one] : [];
        ips = [.. ips.Where(ip => System.Net.IPAddress.TryParse(ip, out _))];
        if (!ips.Any())
        {
            // Headless: kube2sky wrote one record per endpoint address instead of the service's own.
            lock (_gate)
            {
                ips = _endpoints.TryGetValue(Key(service), out var bySlice)
                    ? [.. bySlice.Values.SelectMany(addresses => addresses).Distinct(StringComparer.Ordinal)]
                    : [];
            }
        }

        foreach (string ip in ips)
        {
            Add(string.Empty, Record(ip));
        }

        foreach (V1ServicePort port in spec?.Ports ?? [])
        {
            if (!string.IsNullOrEmpty(port.Name))
            {
                Add($"/_{(port.Protocol ?? "TCP").ToLowerInvariant()}/_{port.Name.ToLowerInvariant()}", Record(owner) with { Port = port.Port });
            }
        }

        return leaves;
    }

    /// <summary>Writes queued changes until cancelled; a failed write is retried after a pause.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach ((string Namespace, string Name)? item in _queue.Reader.ReadAllAsync(cancellationToken))
            {
                while (true)
                {
                    try
                    {
                        if (item is { } key)
                        {
                            lock (_gate)
                            {
                                _pending.Remove(key);
                            }

                            await SyncAsync(key, cancellationToken);
                        }
                        else
                        {
                            await SyncAllAsync(cancellationToken);
                        }

                        break;
                    }
                    catch (Exception e) when (e is StorageException or IOException or InvalidOperationException)
                    {
                        SkyDnsLog.MirrorFailed(_logger, item is { } k ? $"{k.Namespace}/{k.Name}" : "*", e);
                        await Task.Delay(RetryDelay, _time, cancellationToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void Enqueue((string Namespace, string Name) key)
    {
        lock (_gate)
        {
            if (!_pending.Add(key))
            {
                return;
            }
        }

        _queue.Writer.TryWrite(key);
    }

    private async Task SyncAsync((string Namespace, string Name) key, CancellationToken cancellationToken)
    {
        V1Service? service;
        lock (_gate)
        {
            service = _services.GetValueOrDefault(key);
        }

        IReadOnlyDictionary<string, byte[]> desired = service is null ? new Dictionary<string, byte[]>() : LeavesOf(service);
        RangeResult existing = await _store.RangeAsync(PathOf(key) + "/", default, cancellationToken);
        foreach (KeyValue stale in existing.Items.Where(kv => !desired.ContainsKey(kv.Key)))
        {
            await _store.DeleteAsync(stale.Key, cancellationToken: cancellationToken);
        }

        Dictionary<string, byte[]> current = existing.Items.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach ((string leaf, byte[] value) in desired)
        {
            if (!current.TryGetValue(leaf, out byte[]? stored) || !stored.AsSpan().SequenceEqual(value))
            {
                await _store.PutAsync(leaf, value, cancellationToken: cancellationToken);
            }
        }
    }

    /// <summary>Every service held, and every service path in the store that no longer has one.</summary>
    private async Task SyncAllAsync(CancellationToken cancellationToken)
    {
        (string Namespace, string Name)[] known;
        lock (_gate)
        {
            known = [.. _services.Keys];
        }

        RangeResult stored = await _store.RangeAsync(_root + "/", default, cancellationToken);
        IEnumerable<(string, string)> orphans = stored.Items
            .Select(kv => kv.Key[(_root.Length + 1)..].Split('/'))
            .Where(parts => parts.Length >= 3)
            .Select(parts => (parts[0], parts[1]))
            .Distinct()
            .Except(known);
        foreach ((string, string) key in known.Concat(orphans))
        {
            await SyncAsync(key, cancellationToken);
        }
    }

    private void StoreSlice((string Namespace, string Name) key, V1EndpointSlice slice)
    {
        string[] ready =
        [
            .. (slice.Endpoints ?? [])
                .Where(e => e.Conditions?.Ready != false)
                .SelectMany(e => e.Addresses ?? [])
                .Where(a => System.Net.IPAddress.TryParse(a, out _)),
        ];
        if (!_endpoints.TryGetValue(key, out var bySlice))
        {
            _endpoints[key] = bySlice = new Dictionary<string, string[]>(StringComparer.Ordinal);
        }

        bySlice[slice.Metadata?.Name ?? string.Empty] = ready;
    }

    private static (string Namespace, string Name)? ServiceOf(V1EndpointSlice slice) =>
        slice.Metadata?.Labels?.TryGetValue("kubernetes.io/service-name", out string? name) == true && !string.IsNullOrEmpty(name)
            ? ((slice.Metadata.NamespaceProperty ?? "default").ToLowerInvariant(), name.ToLowerInvariant())
            : null;

    private string PathOf((string Namespace, string Name) key) => $"{_root}/{key.Namespace}/{key.Name}";

    private static (string Namespace, string Name) Key(V1Service service) =>
        ((service.Metadata?.NamespaceProperty ?? "default").ToLowerInvariant(), (service.Metadata?.Name ?? string.Empty).ToLowerInvariant());

    private static SkyDnsRecord Record(string host) => new(host, Priority: Priority, Weight: Weight, Ttl: Ttl);

    /// <summary>FNV-1a, 32 bits, of the JSON value: kube2sky's leaf name.</summary>
    private static uint Fnv32a(ReadOnlySpan<byte> data)
    {
        uint hash = 2166136261;
        foreach (byte b in data)
        {
            hash = (hash ^ b) * 16777619;
        }

        return hash;
    }
}
