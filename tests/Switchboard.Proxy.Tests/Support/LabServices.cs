using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Support;

/// <summary>
/// The service the kernel tests program into a <see cref="ServiceNetworkLab"/>, the iptables proxier that does it,
/// and the behaviours every kernel mode must show with it.
/// </summary>
internal static class LabServices
{
    public const string ClusterIp = "10.96.77.10";
    public const int ServicePort = 80;
    public const string ExternalIp = "192.0.2.10";
    public const string IngressIp = "198.51.100.10";

    public static IptablesProxier Proxier(NetnsIptables iptables, TimeSpan? canaryInterval = null) =>
        new(
            iptables,
            new IptablesOptions { ClusterCidr = ServiceNetworkLab.PodCidr, CanaryInterval = canaryInterval ?? TimeSpan.FromMinutes(10) },
            NullLogger<IptablesProxier>.Instance,
            TimeProvider.System);

    /// <summary>lab/web on <see cref="ClusterIp"/>:<see cref="ServicePort"/> with the given endpoints; <paramref name="configure"/> adjusts the Service.</summary>
    public static IReadOnlyList<ServicePortState> Desired(IEnumerable<string> endpointIps, Action<V1Service>? configure = null, string protocol = "TCP")
    {
        var service = Service("lab", "web", ClusterIp, Port("http", ServicePort, protocol));
        configure?.Invoke(service);
        V1EndpointSlice slice = Slice("lab", "web", "http", ServiceNetworkLab.EndpointPort, protocol, [.. endpointIps.Select(Ready)]);
        return ServicePortStates.From(service, [slice]);
    }

    /// <summary>Makes the service a LoadBalancer with <see cref="ExternalIp"/>, ingress <see cref="IngressIp"/> and <paramref name="sourceRange"/>, if any.</summary>
    public static void LoadBalancer(V1Service service, string? sourceRange)
    {
        ArgumentNullException.ThrowIfNull(service);
        service.Spec.Type = "LoadBalancer";
        service.Spec.ExternalIPs = [ExternalIp];
        service.Spec.LoadBalancerSourceRanges = sourceRange is null ? null : [sourceRange];
        service.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = IngressIp }] } };
    }

    /// <summary>
    /// The external and load-balancer IPs answer while loadBalancerSourceRanges holds the lab's client; narrowed to a
    /// range without it (a partial sync), the load-balancer IP drops the client's connections (they time out, as
    /// kube-proxy drops rather than refuses) while the external IP, which source ranges do not cover, still answers.
    /// </summary>
    public static async Task LoadBalancerSourceRangesAdmitOnlyTheirClientsAsync(ServiceNetworkLab lab, IProxier proxier, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(proxier);
        await proxier.SyncAsync(Desired(lab.EndpointIps, s => LoadBalancer(s, "10.250.0.96/28")), cancellationToken);

        Assert.All(await lab.ConnectAsync(ExternalIp, ServicePort, 10), answer => Assert.Contains(answer, lab.EndpointNames));
        Assert.All(await lab.ConnectAsync(IngressIp, ServicePort, 10), answer => Assert.Contains(answer, lab.EndpointNames));

        var narrowed = await proxier.SyncAsync(Desired(lab.EndpointIps, s => LoadBalancer(s, "203.0.113.0/24")), cancellationToken);
        Assert.False(narrowed.Full);
        Assert.Equal("error timed out", Assert.Single(await lab.ConnectAsync(IngressIp, ServicePort, 1)));
        Assert.Contains(Assert.Single(await lab.ConnectAsync(ExternalIp, ServicePort, 1)), lab.EndpointNames);
    }
}
