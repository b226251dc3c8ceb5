using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Switchboard.ApiServer.Allocation;

/// <summary>An IPv4 service CIDR: slot i is network + 1 + i; the network and broadcast addresses are never handed out.</summary>
internal sealed class ClusterIpRange
{
    private readonly uint _network;

    private ClusterIpRange(uint network, int prefixLength, string text)
    {
        _network = network;
        PrefixLength = prefixLength;
        Text = text;
        Size = (int)Math.Min(((1L << (32 - prefixLength)) - 2), int.MaxValue);
    }

    public int PrefixLength { get; }

    public string Text { get; }

    /// <summary>How many addresses can be allocated.</summary>
    public int Size { get; }

    /// <summary>KEP-3070: the low slots reserved for static allocation, min(max(16, size/16), 256).</summary>
    public int StaticOffset => Size <= 16 ? 0 : Math.Min(Math.Max(16, Size / 16), 256);

    public static ClusterIpRange Parse(string cidr)
    {
        int slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(cidr[(slash + 1)..], out int prefix) || prefix is < 1 or > 29)
        {
            throw new FormatException($"service CIDR '{cidr}' is not an IPv4 CIDR with a prefix between /1 and /29");
        }

        uint mask = uint.MaxValue << (32 - prefix);
        uint network = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) & mask;
        return new ClusterIpRange(network, prefix, $"{ToAddress(network)}/{prefix}");
    }

    /// <summary>The slot of <paramref name="ip"/>, or null when it is outside the allocatable range.</summary>
    public int? IndexOf(IPAddress ip)
    {
        if (ip.AddressFamily != AddressFamily.InterNetwork)
        {
            return null;
        }

        long offset = (long)BinaryPrimitives.ReadUInt32BigEndian(ip.GetAddressBytes()) - _network - 1;
        return offset >= 0 && offset < Size ? (int)offset : null;
    }

    public IPAddress AddressAt(int index) => ToAddress(_network + 1 + (uint)index);

    private static IPAddress ToAddress(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
