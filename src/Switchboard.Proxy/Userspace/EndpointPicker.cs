using System.Collections.Immutable;
using System.Net;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// Chooses the endpoint of each new connection or UDP flow of one service port, as kube-proxy's userspace
/// LoadBalancerRR did: round robin over the ready endpoints, starting at a random one so that many nodes do not all
/// begin with the same pod; with ClientIP session affinity a client keeps its endpoint until it has been idle for
/// the affinity timeout or the endpoint goes away. Safe to use from many connections at once.
/// </summary>
internal sealed class EndpointPicker
{
    private const int MinPruneAt = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Affinity> _affinity = [];
    private readonly TimeProvider _time;
    private readonly Random _random;
    private Targets _targets = new([], TimeSpan.Zero);
    private uint _next;
    private int _pruneAt = MinPruneAt;

    public EndpointPicker(TimeProvider time, Random random)
    {
        _time = time;
        _random = random;
    }

    /// <summary>The endpoints new connections go to now (empty: refuse them).</summary>
    public ImmutableArray<IPEndPoint> Endpoints => Volatile.Read(ref _targets).Endpoints;

    /// <summary>Takes a new set of endpoints; clients pinned to an endpoint that is gone choose again.</summary>
    public void Update(ImmutableArray<ProxyEndpoint> endpoints, int affinitySeconds)
    {
        var targets = new Targets(
            [.. endpoints.Select(e => new IPEndPoint(IPAddress.Parse(e.Ip), e.Port))],
            TimeSpan.FromSeconds(affinitySeconds));
        lock (_lock)
        {
            _next = targets.Endpoints.IsEmpty ? 0 : (uint)_random.Next(targets.Endpoints.Length);
            Volatile.Write(ref _targets, targets);
            if (targets.AffinityTimeout == TimeSpan.Zero)
            {
                _affinity.Clear();
                return;
            }

            foreach (var (client, pinned) in _affinity)
            {
                if (!targets.Endpoints.Contains(pinned.Endpoint))
                {
                    _affinity.Remove(client);
                }
            }
        }
    }

    /// <summary>The endpoint for a new connection from <paramref name="client"/>; null when there is none.</summary>
    public IPEndPoint? Next(IPAddress client) => Next(client, except: null);

    /// <summary>As <see cref="Next(IPAddress)"/>, but never <paramref name="except"/> while another endpoint exists (a retry after a failed connect).</summary>
    public IPEndPoint? Next(IPAddress client, IPEndPoint? except)
    {
        var targets = Volatile.Read(ref _targets);
        if (targets.Endpoints.IsEmpty)
        {
            return null;
        }

        if (targets.AffinityTimeout == TimeSpan.Zero)
        {
            return RoundRobin(targets.Endpoints, except);
        }

        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (_affinity.TryGetValue(client, out var pinned) && !pinned.Endpoint.Equals(except) &&
                _time.GetElapsedTime(pinned.LastUsed, now) < targets.AffinityTimeout)
            {
                _affinity[client] = pinned with { LastUsed = now };
                return pinned.Endpoint;
            }

            var chosen = RoundRobin(targets.Endpoints, except);
            _affinity[client] = new Affinity(chosen, now);
            if (_affinity.Count >= _pruneAt)
            {
                RemoveExpired(targets.AffinityTimeout, now);
            }

            return chosen;
        }
    }

    // Forgets clients idle for longer than the timeout, so the table does not grow with every client ever seen; run
    // when the table has doubled since the last time, which keeps the cost per new client constant.
    private void RemoveExpired(TimeSpan timeout, long now)
    {
        foreach (var (client, pinned) in _affinity)
        {
            if (_time.GetElapsedTime(pinned.LastUsed, now) >= timeout)
            {
                _affinity.Remove(client);
            }
        }

        _pruneAt = Math.Max(MinPruneAt, 2 * _affinity.Count);
    }

    private IPEndPoint RoundRobin(ImmutableArray<IPEndPoint> endpoints, IPEndPoint? except)
    {
        var chosen = endpoints[(int)(Interlocked.Increment(ref _next) % (uint)endpoints.Length)];
        return chosen.Equals(except) && endpoints.Length > 1
            ? endpoints[(int)(Interlocked.Increment(ref _next) % (uint)endpoints.Length)]
            : chosen;
    }

    private sealed record Targets(ImmutableArray<IPEndPoint> Endpoints, TimeSpan AffinityTimeout);

    private readonly record struct Affinity(IPEndPoint Endpoint, long LastUsed);
}
