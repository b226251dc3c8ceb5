using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Switchboard.Kube.Networking;

/// <summary>
/// An IPv4 CIDR block such as <c>10.96.0.0/16</c>, held canonical: host bits in the parsed text are cleared, as Go's
/// net.ParseCIDR does, so <c>10.96.3.7/16</c> is <c>10.96.0.0/16</c>. The default value is <c>0.0.0.0/0</c>.
/// </summary>
public readonly record struct Ipv4Cidr
{
    private readonly uint _network;

    private Ipv4Cidr(uint network, int prefixLength)
    {
        _network = network & Mask(prefixLength);
        PrefixLength = prefixLength;
    }

    /// <summary>The number of leading bits fixed by the block, 0 to 32.</summary>
    public int PrefixLength { get; }

    /// <summary>The first address of the block (all host bits zero).</summary>
    public IPAddress Network => ToAddress(_network);

    /// <summary>How many addresses the block spans, network and broadcast included (2^32 for /0).</summary>
    public long AddressCount => 1L << (32 - PrefixLength);

    /// <summary>
    /// Parses dotted-quad text with a decimal prefix length. Octets with leading zeros are refused: inet_aton (and
    /// .NET's IPAddress.Parse) would read them as octal, Go's net.ParseIP refuses them, so they are never meant.
    /// </summary>
    /// <exception cref="FormatException">The text is not an IPv4 CIDR; the message says which part is wrong.</exception>
    public static Ipv4Cidr Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Read(text, out var cidr) is { } problem ? throw new FormatException($"\"{text}\" is not an IPv4 CIDR: {problem}") : cidr;
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out Ipv4Cidr cidr)
    {
        if (text is not null && Read(text, out cidr) is null)
        {
            return true;
        }

        cidr = default;
        return false;
    }

    /// <summary>The address <paramref name="offset"/> places after <see cref="Network"/>.</summary>
    public IPAddress AddressAt(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(offset, AddressCount);
        return ToAddress(_network + (uint)offset);
    }

    /// <summary>The offset of <paramref name="address"/> from <see cref="Network"/>, or null when it is not an IPv4 address inside the block.</summary>
    public long? OffsetOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return null;
        }

        uint value = ToUInt(address);
        return (value & Mask(PrefixLength)) == _network ? value - _network : null;
    }

    public bool Contains(IPAddress address) => OffsetOf(address) is not null;

    /// <summary>How many /<paramref name="prefixLength"/> blocks this one divides into.</summary>
    public long SubnetCount(int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(prefixLength, PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return 1L << (prefixLength - PrefixLength);
    }

    /// <summary>The <paramref name="index"/>-th /<paramref name="prefixLength"/> block inside this one, in address order.</summary>
    public Ipv4Cidr Subnet(int prefixLength, long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, SubnetCount(prefixLength));
        return new Ipv4Cidr(_network + (uint)(index << (32 - prefixLength)), prefixLength);
    }

    /// <summary>The canonical text, <c>network/prefix</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Network}/{PrefixLength}");

    // C# masks a uint shift count to five bits, so << 32 would leave every bit set: /0 needs its own case.
    private static uint Mask(int prefixLength) => prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);

    private static uint ToUInt(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private static IPAddress ToAddress(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    /// <summary>Reads <paramref name="text"/> into <paramref name="cidr"/>; returns what is wrong with it, or null.</summary>
    private static string? Read(string text, out Ipv4Cidr cidr)
    {
        cidr = default;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return "no \"/\" and prefix length";
        }

        ReadOnlySpan<char> address = text.AsSpan(0, slash);
        if (!TryReadAddress(address, out uint network))
        {
            return $"the address \"{address}\" is not four decimal octets from 0 to 255";
        }

        if (!TryReadDecimal(text.AsSpan(slash + 1), 32, out int prefixLength))
        {
            return $"the prefix length \"{text.AsSpan(slash + 1)}\" is not a decimal number from 0 to 32";
        }

        cidr = new Ipv4Cidr(network, prefixLength);
        return null;
    }

    private static bool TryReadAddress(ReadOnlySpan<char> text, out uint address)
    {
        address = 0;
        int octets = 0;
        foreach (Range part in text.Split('.'))
        {
            if (++octets > 4 || !TryReadDecimal(text[part], 255, out int octet))
            {
                return false;
            }

            address = (address << 8) | (uint)octet;
        }

        return octets == 4;
    }

    /// <summary>ASCII digits only (no sign, no spaces), no leading zero, at most <paramref name="max"/>.</summary>
    private static bool TryReadDecimal(ReadOnlySpan<char> digits, int max, out int value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 3 || (digits.Length > 1 && digits[0] == '0'))
        {
            return false;
        }

        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return value <= max;
    }
}
