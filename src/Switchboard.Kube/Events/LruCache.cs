namespace Switchboard.Kube.Events;

/// <summary>A map that forgets its least recently used entry beyond a capacity (groupcache's lru, as client-go uses).</summary>
internal sealed class LruCache<TValue>
{
    private readonly int _capacity;
    private readonly Dictionary<string, LinkedListNode<(string Key, TValue Value)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, TValue Value)> _byUse = new();

    public LruCache(int capacity) => _capacity = capacity;

    public bool TryGetValue(string key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var node))
        {
            _byUse.Remove(node);
            _byUse.AddFirst(node);
            value = node.Value.Value;
            return true;
        }

        value = default!;
        return false;
    }

    public void Set(string key, TValue value)
    {
        if (_entries.Remove(key, out var existing))
        {
            _byUse.Remove(existing);
        }

        _entries[key] = _byUse.AddFirst((key, value));
        if (_entries.Count > _capacity && _byUse.Last is { } oldest)
        {
            _entries.Remove(oldest.Value.Key);
            _byUse.RemoveLast();
        }
    }
}
