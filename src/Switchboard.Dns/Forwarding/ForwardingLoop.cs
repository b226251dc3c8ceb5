using System.Net;
using System.Net.NetworkInformation;

namespace Switchboard.Dns.Forwarding;

/// <summary>
/// An upstream that is this server itself: every forwarded query would come back to be forwarded again until the
/// in-flight limit is spent. It is refused at start with what loops, rather than dropped in silence (which left a
/// server forwarding nowhere). An upstream reaches a listener when both name the same address and port, or when the
/// listener is a wildcard and the upstream is one of this host's own addresses (any of 127/8 among them) on its port.
/// </summary>
public static class ForwardingLoop
{
    /// <summary>Throws an <see cref="InvalidOperationException"/> naming the first upstream that is one of <paramref name="listeners"/>.</summary>
    public static void Refuse(IReadOnlyList<IPEndPoint> upstreams, IReadOnlyList<IPEndPoint> listeners)
    {
        HashSet<IPAddress>? local = null;
        foreach (IPEndPoint upstream in upstreams)
        {
            IPAddress address = Normalize(upstream.Address);
            foreach (IPEndPoint listener in listeners)
            {
                if (listener.Port != upstream.Port)
                {
                    continue;
                }

                bool wildcard = listener.Address.Equals(IPAddress.Any) || listener.Address.Equals(IPAddress.IPv6Any);
                if (address.Equals(Normalize(listener.Address)) || (wildcard && (IPAddress.IsLoopback(address) || (local ??= LocalAddresses()).Contains(address))))
                {
                    throw new InvalidOperationException(
                        $"forwarding loop: upstream {upstream} is this DNS server's own listener {listener}; give --upstream another resolver, or listen elsewhere");
                }
            }
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static HashSet<IPAddress> LocalAddresses() =>
        [.. NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => Normalize(a.Address))];
}
