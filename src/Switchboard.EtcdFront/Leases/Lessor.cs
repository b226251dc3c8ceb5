using Grpc.Core;
using Microsoft.Extensions.Logging;
using Switchboard.Storage;

namespace Switchboard.EtcdFront.Leases;

/// <summary>
/// etcd's leases over a store that has none: each lease's TTL and deadline and the keys attached to it (with the mod
/// revision they were attached at). A lease revoked or expired deletes its keys in one transaction through the
/// store's writer, one revision per lease as etcd; a key written since by anyone else is left alone. Leases live in
/// this process: after a restart the keys once attached stay, as if their lease never expired.
/// </summary>
internal sealed partial class Lessor(IKeyValueStore store, TimeProvider time, ILogger<Lessor> logger)
{
    /// <summary>etcd's smallest TTL with its default election timeout (1 s): a shorter one is raised to it.</summary>
    public const long MinTtl = 2;

    /// <summary>etcd's MaxLeaseTTL.</summary>
    public const long MaxTtl = 9_000_000_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<long, LeaseState> _leases = [];
    private readonly Dictionary<string, (long Lease, long ModRevision)> _attached = new(StringComparer.Ordinal);

    /// <summary>Grants a lease (<paramref name="id"/> 0: one chosen here); returns its id and TTL.</summary>
    public (long Id, long Ttl) Grant(long id, long ttl)
    {
        if (ttl > MaxTtl)
        {
            throw new RpcException(new Status(StatusCode.OutOfRange, "etcdserver: too large lease TTL"));
        }

        ttl = Math.Max(ttl, MinTtl);
        lock (_lock)
        {
            if (id == 0)
            {
                do
                {
                    id = Random.Shared.NextInt64(1, long.MaxValue);
                }
                while (_leases.ContainsKey(id));
            }
            else if (_leases.ContainsKey(id))
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, "etcdserver: lease already exists"));
            }

            _leases[id] = new LeaseState(ttl, time.GetUtcNow().AddSeconds(ttl));
        }

        return (id, ttl);
    }

    public bool Exists(long id)
    {
        lock (_lock)
        {
            return _leases.ContainsKey(id);
        }
    }

    /// <summary>Starts the lease's TTL again; returns it, or 0 when the lease is gone (etcd's keep-alive answer then).</summary>
    public long Renew(long id)
    {
        lock (_lock)
        {
            if (!_leases.TryGetValue(id, out var lease))
            {
                return 0;
            }

            lease.ExpiresAt = time.GetUtcNow().AddSeconds(lease.Ttl);
            return lease.Ttl;
        }
    }

    /// <summary>The seconds left (-1 when the lease is gone), the granted TTL and the attached keys.</summary>
    public (long Remaining, long Granted, IReadOnlyList<string> Keys) TimeToLive(long id)
    {
        lock (_lock)
        {
            if (!_leases.TryGetValue(id, out var lease))
            {
                return (-1, 0, []);
            }

            long remaining = (long)Math.Ceiling((lease.ExpiresAt - time.GetUtcNow()).TotalSeconds);
            return (Math.Max(remaining, 0), lease.Ttl, [.. lease.Keys.Order(StringComparer.Ordinal)]);
        }
    }

    public IReadOnlyList<long> Leases()
    {
        lock (_lock)
        {
            return [.. _leases.Keys];
        }
    }

    /// <summary>The lease <paramref name="kv"/> is attached to (0: none).</summary>
    public long LeaseOf(KeyValue kv)
    {
        lock (_lock)
        {
            return _attached.TryGetValue(kv.Key, out var attached) && attached.ModRevision == kv.ModRevision ? attached.Lease : 0;
        }
    }

    /// <summary>The lease the live key <paramref name="key"/> was last attached to by a put here (0: none).</summary>
    public long LeaseOf(string key)
    {
        lock (_lock)
        {
            return _attached.TryGetValue(key, out var attached) ? attached.Lease : 0;
        }
    }

    /// <summary>Records a put of <paramref name="written"/> with <paramref name="lease"/> (0: none, which detaches the key).</summary>
    public void Written(KeyValue written, long lease)
    {
        lock (_lock)
        {
            Detach(written.Key);
            if (lease != 0 && _leases.TryGetValue(lease, out var state))
            {
                state.Keys.Add(written.Key);
                _attached[written.Key] = (lease, written.ModRevision);
            }
        }
    }

    /// <summary>Records that <paramref name="key"/> was deleted.</summary>
    public void Deleted(string key)
    {
        lock (_lock)
        {
            Detach(key);
        }
    }

    /// <summary>Revokes the lease and deletes its keys in one revision; false if there is no such lease.</summary>
    public async Task<bool> RevokeAsync(long id, CancellationToken cancellationToken)
    {
        List<(string Key, long ModRevision)> keys;
        lock (_lock)
        {
            if (!_leases.Remove(id, out var lease))
            {
                return false;
            }

            keys = [.. lease.Keys.Select(k => (k, _attached[k].ModRevision))];
            foreach (string key in lease.Keys)
            {
                _attached.Remove(key);
            }
        }

        if (keys.Count > 0)
        {
            // Each key goes only if nobody wrote it since it was attached: a nested transaction per key, all at one revision.
            TxnOperation[] deletes =
            [
                .. keys.Select(k => new Transaction([new TxnCompare(k.Key, CompareTarget.ModRevision, CompareOperator.Equal, k.ModRevision)], [new TxnDelete(k.Key)], [])),
            ];
            await store.TxnAsync(new Transaction([], deletes, []), cancellationToken);
        }

        return true;
    }

    /// <summary>Revokes the leases whose deadline has passed, every <paramref name="interval"/>, until cancelled.</summary>
    public async Task ExpireAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            long[] expired;
            lock (_lock)
            {
                var now = time.GetUtcNow();
                expired = [.. _leases.Where(l => l.Value.ExpiresAt <= now).Select(l => l.Key)];
            }

            foreach (long id in expired)
            {
                try
                {
                    await RevokeAsync(id, stoppingToken);
                    LogExpired(logger, id);
                }
                catch (StorageException e)
                {
                    LogExpiryFailed(logger, id, e);
                }
            }
        }
    }

    private void Detach(string key)
    {
        if (_attached.Remove(key, out var previous) && _leases.TryGetValue(previous.Lease, out var state))
        {
            state.Keys.Remove(key);
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "etcd front: lease {Lease:x} expired")]
    private static partial void LogExpired(ILogger logger, long lease);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "etcd front: the keys of expired lease {Lease:x} could not be deleted")]
    private static partial void LogExpiryFailed(ILogger logger, long lease, Exception exception);

    private sealed class LeaseState(long ttl, DateTimeOffset expiresAt)
    {
        public long Ttl { get; } = ttl;

        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;

        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }
}
