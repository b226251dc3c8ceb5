using Switchboard.Dns.Zones;

namespace Switchboard.Dns.Forwarding;

/// <summary>
/// Upstream answers by question (lower-case name, type, class, EDNS flags), each kept for its own lifetime,
/// at most <c>capacity</c> of them and <c>maxBytes</c> of their messages and keys, the least recently used evicted
/// first: answers may be 64 KiB each, so a count alone bounds nothing.
/// </summary>
internal sealed class DnsResponseCache
{
    private readonly Lock _gate = new();
    private readonly int _capacity;
    private readonly long _maxBytes;
    private readonly TimeProvider _time;
    private readonly Dictionary<byte[], LinkedListNode<Entry>> _entries = new(WireNameComparer.Instance);
    private readonly Dictionary<byte[], LinkedListNode<Entry>>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly LinkedList<Entry> _recency = [];
    private long _hits;
    private long _misses;
    private long _bytes;

    public DnsResponseCache(int capacity, long maxBytes, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        _capacity = capacity;
        _maxBytes = maxBytes;
        _time = time;
        _lookup = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The bytes the kept answers and their keys take.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

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

                Evict(node);
            }
        }

        Interlocked.Increment(ref _misses);
        answer = null!;
        age = default;
        return false;
    }

    public void Store(ReadOnlySpan<byte> key, UpstreamAnswer answer)
    {
        long size = key.Length + (long)answer.Message.Length;
        if (answer.Lifetime <= TimeSpan.Zero || _capacity == 0 || size > _maxBytes)
        {
            return;
        }

        var entry = new Entry(key.ToArray(), answer, _time.GetTimestamp(), size);
        lock (_gate)
        {
            if (_lookup.TryGetValue(key, out LinkedListNode<Entry>? old))
            {
                Evict(old);
            }

            while (_entries.Count >= _capacity || _bytes + size > _maxBytes)
            {
                Evict(_recency.Last!);
            }

            _entries[entry.Key] = _recency.AddFirst(entry);
            _bytes += size;
        }
    }

    /// <summary>Drops one entry; the caller holds the gate.</summary>
    private void Evict(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }

    private sealed record Entry(byte[] Key, UpstreamAnswer Answer, long StoredAt, long Size);
}
