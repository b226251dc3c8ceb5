using System.Diagnostics;

namespace Switchboard.LoadGenerator;

/// <summary>
/// Which addresses a watched kind (Endpoints or EndpointSlices) lists as ready, object by object, with the
/// <see cref="Stopwatch"/> time each address last became ready and first became ready; waiters hear of changes.
/// </summary>
internal sealed class ReadyAddresses
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<string>> _byObject = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _count = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _since = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _first = new(StringComparer.Ordinal);
    private readonly List<(string Ip, bool Ready, TaskCompletionSource Done)> _waiters = [];

    /// <summary>How many objects (Endpoints or EndpointSlices) have been seen.</summary>
    public int ObjectCount
    {
        get
        {
            lock (_lock)
            {
                return _byObject.Count;
            }
        }
    }

    public int FirstSeenCount
    {
        get
        {
            lock (_lock)
            {
                return _first.Count;
            }
        }
    }

    /// <summary>The object <paramref name="key"/> now lists <paramref name="ready"/> as its ready addresses.</summary>
    public void Update(string key, IEnumerable<string> ready)
    {
        long now = Stopwatch.GetTimestamp();
        var next = new HashSet<string>(ready, StringComparer.Ordinal);
        lock (_lock)
        {
            var before = _byObject.GetValueOrDefault(key) ?? [];
            foreach (string ip in before.Except(next))
            {
                _count[ip]--;
            }

            foreach (string ip in next.Except(before))
            {
                if ((_count[ip] = _count.GetValueOrDefault(ip) + 1) == 1)
                {
                    _since[ip] = now;
                    _first.TryAdd(ip, now);
                }
            }

            _byObject[key] = next;
            foreach (var waiter in _waiters.Where(w => IsReady(w.Ip) == w.Ready).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Done.TrySetResult();
            }
        }
    }

    public Task WaitAsync(string ip, bool ready)
    {
        lock (_lock)
        {
            if (IsReady(ip) == ready)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((ip, ready, done));
            return done.Task;
        }
    }

    public long? FirstReady(string ip)
    {
        lock (_lock)
        {
            return _first.TryGetValue(ip, out long at) ? at : null;
        }
    }

    public long ReadySince(string ip)
    {
        lock (_lock)
        {
            return _since[ip];
        }
    }

    public long LastFirstReady()
    {
        lock (_lock)
        {
            return _first.Values.Max();
        }
    }

    private bool IsReady(string ip) => _count.GetValueOrDefault(ip) > 0;
}
