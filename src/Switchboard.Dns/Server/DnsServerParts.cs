using Switchboard.Dns.Forwarding;
using Switchboard.Dns.Operations;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Trace;

namespace Switchboard.Dns.Server;

/// <summary>What listeners of one DNS service share besides the index; all optional.</summary>
internal sealed record DnsServerParts(
    SkyDnsZone? SkyDns = null, DnsForwarder? Forwarder = null, DnsMetrics? Metrics = null, bool QueryLog = false, DnsTraceBuffer? Trace = null, ResponseRateLimit? RateLimit = null);
