namespace Switchboard.Storage.Sqlite;

/// <summary>
/// The committed leases in memory: each one's TTL, deadline and attached keys. kv_lease holds only ids and TTLs, so a
/// lease's deadline starts afresh when the store opens, as etcd's lessor refreshes every lease on a new leader. The
/// writer changes the table as batches commit; keep-alives and reads come from any thread, so each access locks.
/// </summary>
internal sealed class LeaseTable(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, Entry> _leases = [];

    public bool Contains(long id)
    {
        lock (_lock)
        {
            return _leases.ContainsKey(id);
        }
    }

    /// <summary>Adds a granted (or, on open, a stored) lease, its TTL counted from now.</summary>
    public void Add(long id, long ttl)
    {
        lock (_lock)
        {
            _leases[id] = new Entry(ttl, Deadline(ttl));
        }
    }

    public void Remove(long id)
    {
        lock (_lock)
        {
            _leases.Remove(id);
        }
    }

    /// <summary>Records that <paramref name="key"/> left <paramref name="from"/> and joined <paramref name="to"/> (0: none).</summary>
    public void Move(string key, long from, long to)
    {
        if (from == to)
        {
            return;
        }

        lock (_lock)
        {
            if (from != 0 && _leases.TryGetValue(from, out var left))
            {
                left.Keys.Remove(key);
            }

            if (to != 0 && _leases.TryGetValue(to, out var joined))
            {
                joined.Keys.Add(key);
            }
        }
    }

    /// <summary>Starts the lease's TTL again; returns it, or 0 when there is no such lease.</summary>
    public long KeepAlive(long id)
    {
        lock (_lock)
        {
            if (!_leases.TryGetValue(id, out var lease))
            {
                return 0;
            }

            lease.ExpiresAt = Deadline(lease.Ttl);
            return lease.Ttl;
        }
    }

    public LeaseInfo? Get(long id)
    {
        lock (_lock)
        {
            if (!_leases.TryGetValue(id, out var lease))
            {
                return null;
            }

            long remaining = (long)Math.Ceiling((lease.ExpiresAt - time.GetUtcNow()).TotalSeconds);
            return new LeaseInfo(id, lease.Ttl, Math.Max(remaining, 0), [.. lease.Keys.Order(StringComparer.Ordinal)]);
        }
    }

    public IReadOnlyList<long> Ids()
    {
        lock (_lock)
        {
            return [.. _leases.Keys];
        }
    }

    /// <summary>The keys attached to the lease as committed.</summary>
    public List<string> KeysOf(long id)
    {
        lock (_lock)
        {
            return _leases.TryGetValue(id, out var lease) ? [.. lease.Keys] : [];
        }
    }

    /// <summary>The leases whose deadline has passed.</summary>
    public List<long> Expired()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            return [.. _leases.Where(l => l.Value.ExpiresAt <= now).Select(l => l.Key)];
        }
    }

    private DateTimeOffset Deadline(long ttl) => time.GetUtcNow().AddSeconds(ttl);

    private sealed class Entry(long ttl, DateTimeOffset expiresAt)
    {
        public long Ttl { get; } = ttl;

        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;

        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }
}
