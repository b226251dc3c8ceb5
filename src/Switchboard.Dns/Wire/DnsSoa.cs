namespace Switchboard.Dns.Wire;

/// <summary>
/// The SOA this server gives a zone it answers for: <c>ns.dns.</c> and <c>hostmaster.</c> under the apex and
/// CoreDNS's fixed refresh, retry and expire timers; only the serial and the negative-caching minimum vary.
/// </summary>
internal static class DnsSoa
{
    private const uint Refresh = 7200;
    private const uint Retry = 1800;
    private const uint Expire = 86400;

    /// <summary>Writes the RDATA; names compress when the writer has a compression table.</summary>
    /// <remarks><c>apex</c>: the zone in lower case without the trailing dot.</remarks>
    public static bool TryWriteData(ref DnsMessageWriter writer, string apex, uint serial, uint minimum) =>
        writer.TryWriteName(DnsName.Parse("ns.dns." + apex))
        && writer.TryWriteName(DnsName.Parse("hostmaster." + apex))
        && writer.TryWriteUInt32(serial)
        && writer.TryWriteUInt32(Refresh)
        && writer.TryWriteUInt32(Retry)
        && writer.TryWriteUInt32(Expire)
        && writer.TryWriteUInt32(minimum);

    /// <summary>
    /// The SOA record of negative answers without its owner (written per query as a pointer into the question):
    /// type, class, TTL, RDLENGTH and RDATA, names uncompressed.
    /// </summary>
    public static byte[] EncodeWithoutOwner(string apex, uint ttl, uint serial, uint minimum)
    {
        var writer = new DnsMessageWriter(new byte[2 * DnsName.MaxLength + 32], []);
        writer.TryBeginRecord(DnsName.Root, (ushort)DnsRecordType.SOA, (ushort)DnsClass.IN, ttl, out int rdLength);
        TryWriteData(ref writer, apex, serial, minimum);
        writer.EndRecord(rdLength);
        return writer.Written[DnsName.Root.Length..].ToArray();
    }
}
