using System.Net;
using Switchboard.Kube.Networking;

namespace Switchboard.Node.Network;

/// <summary>A node's IPv4 /24 (or larger) pod range: the network, its gateway (first host, on the bridge) and the pod addresses.</summary>
internal sealed class PodCidr
{
    private PodCidr(Ipv4Cidr range) => Range = range;

    public Ipv4Cidr Range { get; }

    public string Text => Range.ToString();

    public int PrefixLength => Range.PrefixLength;

    public IPAddress Gateway => Range.AddressAt(1);

    /// <summary>The addresses pods may take: after the gateway, before the broadcast address.</summary>
    public IEnumerable<IPAddress> PodAddresses
    {
        get
        {
            for (long i = 2; i < Range.AddressCount - 1; i++)
            {
                yield return Range.AddressAt(i);
            }
        }
    }

    public static PodCidr Parse(string text) =>
        Ipv4Cidr.TryParse(text, out var range) ? Checked(range, text) : throw Invalid(text);

    /// <summary>Subnet <paramref name="index"/> of size /<paramref name="prefixLength"/> inside <paramref name="clusterCidr"/>.</summary>
    public static PodCidr Subnet(string clusterCidr, int index, int prefixLength = 24)
    {
        var subnet = Parse(clusterCidr).Range.Subnet(prefixLength, index);
        return Checked(subnet, subnet.ToString());
    }

    /// <summary>How many /<paramref name="prefixLength"/> subnets <paramref name="clusterCidr"/> holds.</summary>
    public static int SubnetCount(string clusterCidr, int prefixLength = 24) => checked((int)Parse(clusterCidr).Range.SubnetCount(prefixLength));

    public override string ToString() => Text;

    // A /30 or smaller leaves no pod address once the network, gateway and broadcast are taken.
    private static PodCidr Checked(Ipv4Cidr range, string text) => range.PrefixLength is >= 8 and <= 29 ? new PodCidr(range) : throw Invalid(text);

    private static FormatException Invalid(string text) => new($"pod CIDR \"{text}\" is not an IPv4 range between /8 and /29");
}
