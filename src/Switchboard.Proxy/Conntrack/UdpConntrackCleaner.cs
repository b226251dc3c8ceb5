using System.Globalization;
using Microsoft.Extensions.Logging;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Conntrack;

/// <summary>
/// Deletes the UDP conntrack entries that still lead to endpoints a sync removed, with the <c>conntrack</c> tool
/// inside the node's namespace. UDP has no connection to close: a client that keeps its socket (a DNS resolver)
/// would keep refreshing the entry's timeout and keep reaching the dead pod, however the rules changed. TCP
/// entries are left alone, as kube-proxy does: a connection to a gone pod fails by itself.
/// </summary>
internal sealed partial class UdpConntrackCleaner(string networkNamespace, ILogger<UdpConntrackCleaner> logger)
{
    private readonly string _namespace = NetnsProcess.ValidName(networkNamespace);

    /// <summary>One flow to delete: to a service address and port (any address when null: a NodePort), answered by an endpoint.</summary>
    public sealed record StaleFlow(string? ServiceIp, int Port, string EndpointIp, int EndpointPort);

    /// <summary>The flows to the UDP endpoints that <paramref name="previous"/> used and <paramref name="current"/> no longer does.</summary>
    public static List<StaleFlow> StaleFlows(IReadOnlyList<ServicePortState> previous, IReadOnlyList<ServicePortState> current)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        var flows = new List<StaleFlow>();
        var now = new Dictionary<string, ServicePortState>(StringComparer.Ordinal);
        foreach (var s in current)
        {
            if (s.Protocol == "udp")
            {
                now[s.ServiceChain] = s;
            }
        }

        foreach (var old in previous)
        {
            if (old.Protocol != "udp" || (now.TryGetValue(old.ServiceChain, out var s) && ReferenceEquals(s, old)))
            {
                continue;
            }

            foreach (var ep in old.Endpoints.Concat(old.LocalEndpoints).Distinct())
            {
                if (s is not null && (s.Endpoints.Contains(ep) || s.LocalEndpoints.Contains(ep)))
                {
                    continue;
                }

                foreach (string ip in (string[])[old.ClusterIp, .. old.ExternalIps, .. old.LoadBalancerIps])
                {
                    flows.Add(new StaleFlow(ip, old.Port, ep.Ip, ep.Port));
                }

                if (old.NodePort != 0)
                {
                    flows.Add(new StaleFlow(null, old.NodePort, ep.Ip, ep.Port));
                }
            }
        }

        return flows;
    }

    /// <summary>Deletes <paramref name="flows"/>; a conntrack command that fails is logged, and the next ones still run.</summary>
    public async Task DeleteAsync(IReadOnlyList<StaleFlow> flows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flows);
        foreach (var flow in flows)
        {
            List<string> args = ["-D", "-p", "udp"];
            if (flow.ServiceIp is not null)
            {
                args.AddRange(["--orig-dst", flow.ServiceIp]);
            }

            args.AddRange([
                "--orig-port-dst", flow.Port.ToString(CultureInfo.InvariantCulture),
                "--reply-src", flow.EndpointIp,
                "--reply-port-src", flow.EndpointPort.ToString(CultureInfo.InvariantCulture)]);
            var result = await NetnsProcess.RunAsync(_namespace, "conntrack", args, ReadOnlyMemory<byte>.Empty, cancellationToken);
            // conntrack exits 1 when no entry matched, which is the common case.
            if (result.ExitCode > 1)
            {
                LogDeleteFailed(logger, result.Command, result.ExitCode, result.Stderr.Trim());
            }
        }
    }

    [LoggerMessage(EventId = 6031, Level = LogLevel.Warning, Message = "deleting stale UDP conntrack entries failed: {Command} exited {ExitCode}: {Error}")]
    private static partial void LogDeleteFailed(ILogger logger, string command, int exitCode, string error);
}
