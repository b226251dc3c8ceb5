using Switchboard.Dns.InCluster;

namespace Switchboard.Dns.Trace;

/// <summary>
/// Where DNS's trace stream (<see cref="Kube.Trace.TraceStream"/> over <see cref="DnsTraceBuffer"/>, on the operations
/// port) is reached through the API server: kube-dns's <c>metrics</c> port, by name or number.
/// </summary>
public static class DnsTraceStream
{
    /// <summary>How the API server's <c>services/…/proxy</c> names DNS's operations port.</summary>
    public static readonly IReadOnlyList<string> ServiceProxyKeys =
    [
        $"{KubeDnsRegistration.Namespace}/{KubeDnsRegistration.Name}:{KubeDnsRegistration.MetricsPortName}",
        $"{KubeDnsRegistration.Namespace}/{KubeDnsRegistration.Name}:{KubeDnsRegistration.MetricsPort}",
    ];
}
