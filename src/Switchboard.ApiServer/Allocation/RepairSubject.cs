using System.Globalization;
using System.Net;
using k8s.Models;

namespace Switchboard.ApiServer.Allocation;

/// <summary>
/// What a repair checks: which values a Service holds of the range, the value of a slot, and upstream's words for
/// them — <c>Cluster IP [IPv4]:10.96.0.5</c> or <c>Port 30080</c>, the event reasons (<c>ClusterIPNotAllocated</c>,
/// <c>PortAlreadyAllocated</c>, …), the event action and reporting component, and the range.
/// </summary>
internal sealed record RepairSubject(
    string Subject,
    string ReasonPrefix,
    string Action,
    string Component,
    string Range,
    Func<V1Service, IEnumerable<RangeClaim>> Claims,
    Func<int, string> ValueAt)
{
    public static RepairSubject ClusterIps(ClusterIpRange range) => new(
        "Cluster IP [IPv4]:",
        "ClusterIP",
        "ClusterIPAllocation",
        "ipallocator-repair-controller",
        $"the configured Service CIDR {range.Text}",
        s => s.Spec?.ClusterIP is { Length: > 0 } ip && ip != "None"
            ? [new RangeClaim(ip, IPAddress.TryParse(ip, out var address) ? range.IndexOf(address) : null)]
            : [],
        slot => range.AddressAt(slot).ToString());

    public static RepairSubject NodePorts(int first, int last) => new(
        "Port ",
        "Port",
        "PortAllocation",
        "portallocator-repair-controller",
        $"the port range {first}-{last}",
        s => (s.Spec?.Ports ?? [])
            .Select(p => p.NodePort ?? 0)
            .Where(p => p != 0)
            .Select(p => new RangeClaim(p.ToString(CultureInfo.InvariantCulture), p >= first && p <= last ? p - first : null)),
        slot => (first + slot).ToString(CultureInfo.InvariantCulture));
}
