using System.Net;

namespace Switchboard.Dns.Forwarding;

/// <summary>Where names outside the cluster zones go, who may ask for them, and how long answers are kept.</summary>
public sealed record ForwarderOptions
{
    /// <summary>The networks of pods and services (Switchboard's defaults); loopback is always allowed.</summary>
    public static readonly IReadOnlyList<IPNetwork> DefaultClientNetworks = [IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.96.0.0/16")];

    /// <summary>Resolvers tried in order; empty: the nameservers of /etc/resolv.conf (see <see cref="ResolvConf"/>).</summary>
    public IReadOnlyList<IPEndPoint> Upstreams { get; init; } = [];

    /// <summary>This server's own listeners: an upstream that reaches one of them is a loop, refused at start.</summary>
    public IReadOnlyList<IPEndPoint> OwnEndPoints { get; init; } = [];

    /// <summary>Clients outside loopback and these networks get REFUSED for forwarded names: never an open resolver.</summary>
    public IReadOnlyList<IPNetwork> ClientNetworks { get; init; } = DefaultClientNetworks;

    /// <summary>How long one upstream gets for one exchange before the next is tried.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Most answers kept; the least recently used goes first.</summary>
    public int CacheCapacity { get; init; } = 10_000;

    /// <summary>Most bytes of answers kept (an answer may be 64 KiB): the least recently used go first.</summary>
    public long CacheMaxBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Upper bound on a positive answer's lifetime in the cache (CoreDNS cache: 3600 s).</summary>
    public TimeSpan MaxTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Upper bound on a negative answer's lifetime (CoreDNS cache: 1800 s).</summary>
    public TimeSpan MaxNegativeTtl { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Exchanges in flight at once; queries beyond it are answered SERVFAIL at once, before anything is allocated for them.</summary>
    public int MaxConcurrentExchanges { get; init; } = 1000;
}
