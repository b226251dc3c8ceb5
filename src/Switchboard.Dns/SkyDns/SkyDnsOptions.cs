namespace Switchboard.Dns.SkyDns;

/// <summary>The SkyDNS zone: which domains it serves out of the store, and from which key prefix.</summary>
public sealed record SkyDnsOptions
{
    /// <summary>Where SkyDNS keeps its records (etcd's <c>/skydns</c> by convention).</summary>
    public string Prefix { get; init; } = "/skydns";

    /// <summary>Domains answered from the store (e.g. <c>skydns.local</c>); the cluster zone comes first where they overlap.</summary>
    public IReadOnlyList<string> Zones { get; init; } = ["skydns.local"];

    /// <summary>TTL of a record whose JSON has none (CoreDNS's etcd plugin: 300).</summary>
    public uint DefaultTtl { get; init; } = 300;

    /// <summary>Write every Service under <c>&lt;prefix&gt;/&lt;reversed cluster domain&gt;/svc/…</c> as kube2sky did.</summary>
    public bool MirrorServices { get; init; } = true;
}
