using System.Net;

namespace Switchboard.Dns.Zones;

/// <summary>
/// One record of a name before encoding. Names are lower-case presentation text without the trailing dot;
/// equality is by value, which is how duplicates from several EndpointSlices collapse.
/// </summary>
internal readonly record struct ZoneRecord(Wire.DnsRecordType Type, uint Ttl, IPAddress? Address = null, string? Target = null, ushort Port = 0, string? Text = null)
{
    public static ZoneRecord ForAddress(IPAddress address, uint ttl) =>
        new(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? Wire.DnsRecordType.AAAA : Wire.DnsRecordType.A, ttl, Address: address);
}
