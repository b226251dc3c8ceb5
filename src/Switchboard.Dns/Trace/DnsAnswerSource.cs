namespace Switchboard.Dns.Trace;

/// <summary>Where an answer came from, as a trace shows it: a query's path through the server in one byte.</summary>
public enum DnsAnswerSource : byte
{
    /// <summary>Answered by the server itself without a lookup: malformed, refused, or a version it does not speak.</summary>
    None,

    /// <summary>The cluster zone (services, endpoints, pods).</summary>
    Cluster,

    /// <summary>The SkyDNS zone, from <c>/skydns/…</c> keys in the store.</summary>
    SkyDns,

    /// <summary>The forwarder's cache.</summary>
    Cache,

    /// <summary>An upstream resolver (or none answered: SERVFAIL).</summary>
    Upstream,
}
