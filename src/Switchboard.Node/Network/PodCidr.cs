using System.Net;
using System.Net.Sockets;

namespace Switchboard.Node.Network;

/// <summary>A node's IPv4 /24 (or larger) pod range: the network, its gateway (first host, on the bridge) and the pod addresses.</summary>
internal sealed class PodCidr
{
    private readonly uint _network;

    private PodCidr(uint network, int prefixLength, string text)
    {
        _network = network;
        PrefixLength = prefixLength;
        Text = text;
    }

    public string Text { get; }

    public int PrefixLength { get; }

    public IPAddress Gateway => ToAddress(_network + 1);

    /// <summary>The addresses pods may take: after the gateway, before the broadcast address.</summary>
    public IEnumerable<IPAddress> PodAddresses
    {
        get
        {
            uint size = 1u << (32 - PrefixLength);
            for (uint i = 2; i < size - 1; i++)
            {
                yield return ToAddress(_network + i);
            }
        }
    }

    public static PodCidr Parse(string text)
    {
        string[] parts = text.Split('/');
        if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(parts[1], out int prefix) || prefix is < 8 or > 29)
        {
            throw new FormatException($"pod CIDR \"{text}\" is not an IPv4 range between /8 and /29");
        }

        uint mask = uint.MaxValue << (32 - prefix);
        uint network = ToUInt(address) & mask;
        return new PodCidr(network, prefix, $"{ToAddress(network)}/{prefix}");
    }

    /// <summary>Subnet <paramref name="index"/> of size /<paramref name="prefixLength"/> inside <paramref name="clusterCidr"/>.</summary>
    public static PodCidr Subnet(string clusterCidr, int index, int prefixLength = 24)
    {
        var cluster = Parse(clusterCidr);
        uint network = cluster._network + ((uint)index << (32 - prefixLength));
        return Parse($"{ToAddress(network)}/{prefixLength}");
    }

    /// <summary>How many /<paramref name="prefixLength"/> subnets <paramref name="clusterCidr"/> holds.</summary>
    public static int SubnetCount(string clusterCidr, int prefixLength = 24) => 1 << (prefixLength - Parse(clusterCidr).PrefixLength);

    public bool Contains(IPAddress address) => (ToUInt(address) & (uint.MaxValue << (32 - PrefixLength))) == _network;

    private static uint ToUInt(IPAddress address)
    {
        byte[] b = address.GetAddressBytes();
        return ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
    }

    private static IPAddress ToAddress(uint value) => new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    public override string ToString() => Text;
}
