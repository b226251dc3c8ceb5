using Switchboard.Dns.Zones;

namespace Switchboard.Dns.Forwarding;

/// <summary>
/// Upstream answers by question (lower-case name, type, class, EDNS flags), each kept for its own lifetime,
/// at most <c>capacity</c> of them with the least recently used evicted first.
/// </summary>
internal sealed class DnsResponseCache
{
    private readonly Lock _gate = new();
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly Dictionary<byte[], LinkedListNode<Entry>> _entries = new(WireNameComparer.Instance);
    private readonly Dictionary<byte[], LinkedListNode<Entry>>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly LinkedList<Entry> _recency = [];
    private long _hits;
    private long _misses;

    public DnsResponseCache(int capacity, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
        _time = time;
        _lookup = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public bool TryGet(ReadOnlySpan<byte> key, out UpstreamAnswer answer, out TimeSpan age)
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_lookup.TryGetValue(key, out LinkedListNode<Entry>? node))
            {
                age = _time.GetElapsedTime(node.Value.StoredAt, now);
                if (age < node.Value.Answer.Lifetime)
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    answer = node.Value.Answer;
                    _hits++;
                    return true;
                }

                _recency.Remove(node);
                _entries.Remove(node.Value.Key);
            }
        }

        Interlocked.Increment(ref _misses);
        answer = null!;
        age = default;
        return false;
    }

    public void Store(ReadOnlySpan<byte> key, UpstreamAnswer answer)
    {
        if (answer.Lifetime <= TimeSpan.Zero || _capacity == 0)
        {
            return;
        }

        var entry = new Entry(key.ToArray(), answer, _time.GetTimestamp());
        lock (_gate)
        {
            if (_entries.Remove(entry.Key, out LinkedListNode<Entry>? old))
            {
                _recency.Remove(old);
            }
            else if (_entries.Count >= _capacity)
            {
                LinkedListNode<Entry> oldest = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
            }

            _entries[entry.Key] = _recency.AddFirst(entry);
        }
    }

    private sealed record Entry(byte[] Key, UpstreamAnswer Answer, long StoredAt);
}
