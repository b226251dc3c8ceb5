using System.Net;
using Switchboard.Kube.Networking;

namespace Switchboard.ApiServer.Allocation;

/// <summary>An IPv4 service CIDR: slot i is network + 1 + i; the network and broadcast addresses are never handed out.</summary>
internal sealed class ClusterIpRange
{
    private readonly Ipv4Cidr _cidr;

    private ClusterIpRange(Ipv4Cidr cidr)
    {
        _cidr = cidr;
        Size = (int)Math.Min(cidr.AddressCount - 2, int.MaxValue);
    }

    public string Text => _cidr.ToString();

    /// <summary>How many addresses can be allocated.</summary>
    public int Size { get; }

    /// <summary>KEP-3070: the low slots reserved for static allocation, min(max(16, size/16), 256).</summary>
    public int StaticOffset => Size <= 16 ? 0 : Math.Min(Math.Max(16, Size / 16), 256);

    public static ClusterIpRange Parse(string cidr) =>
        Ipv4Cidr.TryParse(cidr, out var parsed) && parsed.PrefixLength is >= 1 and <= 29
            ? new ClusterIpRange(parsed)
            : throw new FormatException($"service CIDR '{cidr}' is not an IPv4 CIDR with a prefix between /1 and /29");

    /// <summary>The slot of <paramref name="ip"/>, or null when it is outside the allocatable range.</summary>
    public int? IndexOf(IPAddress ip) => _cidr.OffsetOf(ip) is long offset && offset >= 1 && offset <= Size ? (int)(offset - 1) : null;

    public IPAddress AddressAt(int index) => _cidr.AddressAt(index + 1L);
}
