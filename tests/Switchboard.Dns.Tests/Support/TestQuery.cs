using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Support;

/// <summary>Builds query messages with the production writer, the way a stub resolver would send them.</summary>
internal static class TestQuery
{
    public static byte[] Create(
        string name,
        DnsRecordType type,
        ushort id = 0x1234,
        ushort? udpSize = null,
        byte ednsVersion = 0,
        bool dnssecOk = false,
        ushort flags = DnsHeader.RdFlag,
        ushort @class = (ushort)DnsClass.IN) =>
        Create(DnsName.Parse(name), (ushort)type, id, udpSize, ednsVersion, dnssecOk, flags, @class);

    public static byte[] Create(byte[] name, ushort type, ushort id, ushort? udpSize, byte ednsVersion, bool dnssecOk, ushort flags, ushort @class)
    {
        byte[] buffer = new byte[600];
        var writer = new DnsMessageWriter(buffer, new ushort[16]);
        new DnsHeader(id, flags, 1, 0, 0, (ushort)(udpSize is null ? 0 : 1)).Write(buffer);
        writer.TryWriteBytes(buffer.AsSpan(0, DnsHeader.Size).ToArray());
        writer.TryWriteQuestion(name, type, @class);
        if (udpSize is { } size)
        {
            uint ttl = ((uint)ednsVersion << 16) | (dnssecOk ? (uint)DnsEdns.DoFlag : 0);
            writer.TryBeginRecord(DnsName.Root, (ushort)DnsRecordType.OPT, size, ttl, out int rdLength);
            writer.EndRecord(rdLength);
        }

        return writer.Written.ToArray();
    }
}
