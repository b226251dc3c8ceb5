using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Kube.Informers;

namespace Switchboard.Controllers.Shared;

/// <summary>
/// What a controller wrote that its informer has not shown yet. The cache lags a write by a watch round trip, so a
/// sync right after one would start from the old object and lose its write to a 409 Conflict (then back off): when a
/// pod turns Ready moments after a sibling, that is the common case. Syncs read through this instead. An entry goes
/// when the informer shows that resourceVersion (or the object's deletion); a write that fails with 409 or 404 anyway
/// forgets the key, so the retry starts from the cache. Only equality of resourceVersions is used: they are opaque.
/// </summary>
internal sealed class OwnWrites<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    // A null value marks an object this controller deleted whose deletion the informer has not shown yet.
    private readonly ConcurrentDictionary<string, T?> _pending = new(StringComparer.Ordinal);
    private readonly Informer<T> _informer;

    public OwnWrites(Informer<T> informer)
    {
        _informer = informer;
        informer.AddHandler(Seen, (_, obj) => Seen(obj), obj => _pending.TryRemove(ObjectKey.Of(obj), out _));
    }

    /// <summary>The object as this controller last left it: its own write if the cache lags, else the cache's.</summary>
    public T? Get(string key) => _pending.TryGetValue(key, out var written) ? written : _informer.Cache.Get(key);

    /// <summary>The cache's objects with this controller's pending writes laid over them (created ones added, deleted ones dropped).</summary>
    public List<T> Overlay(IEnumerable<T> cached, Func<T, bool> belongs)
    {
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var obj in cached)
        {
            result[ObjectKey.Of(obj)] = obj;
        }

        foreach (var (key, written) in _pending)
        {
            if (written is null)
            {
                result.Remove(key);
            }
            else if (belongs(written))
            {
                result[key] = written;
            }
        }

        return [.. result.Values];
    }

    /// <summary>
    /// Runs a create or update of <paramref name="desired"/> and remembers what it returned; a 409 or 404 forgets the
    /// object (when it has a name: a create from generateName has none yet) and rethrows.
    /// </summary>
    public async Task<T> WriteAsync(T desired, Func<Task<T>> write)
    {
        try
        {
            var written = await write();
            Remember(ObjectKey.Of(written), written);
            return written;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
        {
            if (!string.IsNullOrEmpty(desired.Metadata.Name))
            {
                _pending.TryRemove(ObjectKey.Of(desired), out _);
            }

            throw;
        }
    }

    /// <summary>Records a deletion this controller made, so syncs stop seeing the object before the informer does.</summary>
    public void Deleted(string key)
    {
        _pending[key] = null;

        // As in Remember: the informer may have shown the deletion already.
        if (_informer.Cache.Get(key) is null)
        {
            _pending.TryRemove(KeyValuePair.Create(key, (T?)null));
        }
    }

    private void Remember(string key, T written)
    {
        _pending[key] = written;

        // The informer may have shown this version between the write's response and now: its handler saw no entry.
        if (_informer.Cache.Get(key)?.Metadata.ResourceVersion == written.Metadata.ResourceVersion)
        {
            _pending.TryRemove(KeyValuePair.Create(key, (T?)written));
        }
    }

    private void Seen(T obj)
    {
        string key = ObjectKey.Of(obj);
        if (_pending.TryGetValue(key, out var written) && written is not null && written.Metadata.ResourceVersion == obj.Metadata.ResourceVersion)
        {
            _pending.TryRemove(KeyValuePair.Create(key, (T?)written));
        }
    }
}
