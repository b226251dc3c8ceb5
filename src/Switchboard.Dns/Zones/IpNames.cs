using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Switchboard.Dns.Zones;

/// <summary>The names Kubernetes DNS derives from IP addresses: dashed hostnames and reverse (PTR) names.</summary>
internal static class IpNames
{
    /// <summary>CoreDNS's endpoint hostname for an address without one: <c>10-0-0-5</c>, <c>fd00--5</c>, <c>5678-abcd--0</c>.</summary>
    public static string Dashed(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return address.ToString().Replace('.', '-');
        }

        string dashed = address.ToString().Replace(':', '-');
        return dashed.EndsWith('-') ? dashed + "0" : dashed;
    }

    /// <summary><c>d.c.b.a.in-addr.arpa</c>, or the 32 reversed nibbles under <c>ip6.arpa</c>.</summary>
    public static string Reverse(IPAddress address)
    {
        byte[] bytes = address.GetAddressBytes();
        var name = new StringBuilder(72);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                name.Append(bytes[i]).Append('.');
            }

            return name.Append("in-addr.arpa").ToString();
        }

        const string Hex = "0123456789abcdef";
        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            name.Append(Hex[bytes[i] & 0xF]).Append('.').Append(Hex[bytes[i] >> 4]).Append('.');
        }

        return name.Append("ip6.arpa").ToString();
    }

    /// <summary>Parses a dashed label back into an IPv4 address without allocating.</summary>
    public static bool TryParseDashedIPv4(ReadOnlySpan<byte> label, out uint address)
    {
        address = 0;
        int octets = 0;
        int value = -1;
        foreach (byte b in label)
        {
            if (b == (byte)'-')
            {
                if (value < 0 || octets == 3)
                {
                    return false;
                }

                address = (address << 8) | (uint)value;
                octets++;
                value = -1;
            }
            else if (b is >= (byte)'0' and <= (byte)'9')
            {
                value = value < 0 ? b - '0' : (value * 10) + (b - '0');
                if (value > 255)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        if (value < 0 || octets != 3)
        {
            return false;
        }

        address = (address << 8) | (uint)value;
        return true;
    }

    /// <summary>Parses a dashed IPv6 label (<c>fd00--5</c>); IPv6 pod names are rare, so this may allocate.</summary>
    public static bool TryParseDashedIPv6(ReadOnlySpan<byte> label, out UInt128 address)
    {
        address = 0;
        if (label.Length is 0 or > 45 || label.IndexOf((byte)'-') < 0)
        {
            return false;
        }

        Span<char> text = stackalloc char[label.Length];
        for (int i = 0; i < label.Length; i++)
        {
            byte b = label[i];
            if (!(char.IsAsciiHexDigit((char)b) || b == (byte)'-'))
            {
                return false;
            }

            text[i] = b == (byte)'-' ? ':' : (char)b;
        }

        if (!IPAddress.TryParse(text, out IPAddress? parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        parsed.TryWriteBytes(bytes, out _);
        address = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }
}
