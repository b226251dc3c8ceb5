using k8s;
using k8s.Models;

namespace Switchboard.Kube.Informers;

/// <summary>
/// The informer's thread-safe local copy of a collection, keyed by <see cref="ObjectKey"/>, with secondary indexes
/// (always by namespace; more may be added before the informer starts). Objects handed out must not be mutated.
/// </summary>
public sealed class InformerCache<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    public const string NamespaceIndex = "namespace";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<T, IEnumerable<string>>> _indexers = new(StringComparer.Ordinal);

    // An index value's keys: a single key as the string itself, more as a HashSet<string>. Most values of an index by
    // uid or owner find one object, and a HashSet for each was about 200 bytes of every cached object.
    private readonly Dictionary<string, Dictionary<string, object>> _indexes = new(StringComparer.Ordinal);

    public InformerCache() => AddIndex(NamespaceIndex, o => o.Metadata.NamespaceProperty is { } ns ? [ns] : []);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>
    /// Adds a secondary index: every value <paramref name="indexFunc"/> yields for an object finds it. Objects already
    /// cached are indexed at once (a component sharing the informer may come after it filled); an index of that name
    /// already there is kept, as the name says what it indexes.
    /// </summary>
    public void AddIndex(string name, Func<T, IEnumerable<string>> indexFunc)
    {
        lock (_lock)
        {
            if (!_indexers.TryAdd(name, indexFunc))
            {
                return;
            }

            var byValue = new Dictionary<string, object>(StringComparer.Ordinal);
            _indexes.Add(name, byValue);
            foreach (var (key, obj) in _items)
            {
                Index(byValue, indexFunc, key, obj);
            }
        }
    }

    public T? Get(string key)
    {
        lock (_lock)
        {
            return _items.GetValueOrDefault(key);
        }
    }

    public T? Get(string? ns, string name) => Get(ObjectKey.Of(ns, name));

    public IReadOnlyList<T> List()
    {
        lock (_lock)
        {
            return [.. _items.Values];
        }
    }

    public IReadOnlyList<string> Keys()
    {
        lock (_lock)
        {
            return [.. _items.Keys];
        }
    }

    public IReadOnlyList<T> ByIndex(string index, string value)
    {
        lock (_lock)
        {
            if (!_indexes.TryGetValue(index, out var byValue))
            {
                throw new ArgumentException($"no index named {index}", nameof(index));
            }

            return byValue.GetValueOrDefault(value) switch
            {
                string key => [_items[key]],
                HashSet<string> keys => [.. keys.Select(k => _items[k])],
                _ => [],
            };
        }
    }

    public IReadOnlyList<T> InNamespace(string ns) => ByIndex(NamespaceIndex, ns);

    /// <summary>Stores an object; returns the one it replaced.</summary>
    internal T? Upsert(T obj)
    {
        string key = ObjectKey.Of(obj);
        lock (_lock)
        {
            var old = _items.GetValueOrDefault(key);
            if (old is not null)
            {
                Unindex(key, old);
            }

            _items[key] = obj;
            Index(key, obj);
            return old;
        }
    }

    /// <summary>Removes an object by key; returns what was stored.</summary>
    internal T? Remove(string key)
    {
        lock (_lock)
        {
            if (!_items.Remove(key, out var old))
            {
                return null;
            }

            Unindex(key, old);
            return old;
        }
    }

    private void Index(string key, T obj)
    {
        foreach (var (name, func) in _indexers)
        {
            Index(_indexes[name], func, key, obj);
        }
    }

    private static void Index(Dictionary<string, object> byValue, Func<T, IEnumerable<string>> indexFunc, string key, T obj)
    {
        foreach (string value in indexFunc(obj))
        {
            switch (byValue.GetValueOrDefault(value))
            {
                case null:
                    byValue[value] = key;
                    break;
                case string single when single != key:
                    byValue[value] = new HashSet<string>(StringComparer.Ordinal) { single, key };
                    break;
                case HashSet<string> keys:
                    keys.Add(key);
                    break;
            }
        }
    }

    private void Unindex(string key, T obj)
    {
        foreach (var (name, func) in _indexers)
        {
            var byValue = _indexes[name];
            foreach (string value in func(obj))
            {
                switch (byValue.GetValueOrDefault(value))
                {
                    case string single when single == key:
                        byValue.Remove(value);
                        break;
                    case HashSet<string> keys when keys.Remove(key) && keys.Count == 0:
                        byValue.Remove(value);
                        break;
                }
            }
        }
    }
}
