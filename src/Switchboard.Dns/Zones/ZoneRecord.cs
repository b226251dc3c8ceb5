using System.Net;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Zones;

/// <summary>
/// One record of a name before encoding. Names are lower-case presentation text without the trailing dot;
/// equality is by value, which is how duplicates from several EndpointSlices collapse.
/// </summary>
internal readonly record struct ZoneRecord(DnsRecordType Type, uint Ttl, IPAddress? Address = null, string? Target = null, ushort Port = 0, string? Text = null)
{
    private const int MaxCharacterStringLength = 255;

    public static ZoneRecord ForAddress(IPAddress address, uint ttl) =>
        new(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? DnsRecordType.AAAA : DnsRecordType.A, ttl, Address: address);

    /// <summary>
    /// Writes the RDATA; false when it does not fit, and for SOA, whose data is the zone's (<see cref="DnsSoa"/>).
    /// <paramref name="priority"/> and <paramref name="weight"/> are for SRV.
    /// </summary>
    public bool TryWriteData(ref DnsMessageWriter writer, ushort priority, ushort weight) => Type switch
    {
        DnsRecordType.A or DnsRecordType.AAAA => writer.TryWriteBytes(Address!.GetAddressBytes()),
        DnsRecordType.CNAME or DnsRecordType.PTR or DnsRecordType.NS => writer.TryWriteName(DnsName.Parse(Target!)),
        DnsRecordType.SRV => writer.TryWriteUInt16(priority)
            && writer.TryWriteUInt16(weight)
            && writer.TryWriteUInt16(Port)
            && writer.TryWriteName(DnsName.Parse(Target!), compress: false),
        DnsRecordType.TXT => writer.TryWriteBytes(CharacterStrings(Text!)),
        _ => false,
    };

    /// <summary>TXT RDATA: the text cut into character-strings of at most 255 bytes.</summary>
    private static byte[] CharacterStrings(string text)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var rdata = new List<byte>(bytes.Length + (bytes.Length / MaxCharacterStringLength) + 1);
        for (int offset = 0; offset < bytes.Length; offset += MaxCharacterStringLength)
        {
            int length = Math.Min(MaxCharacterStringLength, bytes.Length - offset);
            rdata.Add((byte)length);
            rdata.AddRange(bytes.AsSpan(offset, length));
        }

        return [.. rdata];
    }
}
