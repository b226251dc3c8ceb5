using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Support;

/// <summary>The service the kernel tests program into a <see cref="ServiceNetworkLab"/>, and the proxier that does it.</summary>
internal static class LabServices
{
    public const string ClusterIp = "10.96.77.10";
    public const int ServicePort = 80;

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
}
