using System.Net;

namespace Switchboard.Dns.Forwarding;

/// <summary>Which clients may have names resolved for them: loopback and the configured networks.</summary>
internal sealed class ClientNetworks(IReadOnlyList<IPNetwork> networks)
{
    public bool Allows(IPAddress client)
    {
        IPAddress address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        foreach (IPNetwork network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
