using Switchboard.Dns.Wire;
using Switchboard.Dns.Zones;

namespace Switchboard.Dns.SkyDns;

/// <summary>Records gathered for one SkyDNS query, encoded behind the question like the cluster zone's precomputed answers.</summary>
internal sealed class SkyDnsAnswer(byte[] question)
{
    private readonly List<Item> _answers = [];
    private readonly List<Item> _additional = [];
    private bool _hasCname;

    /// <summary>Whether a CNAME may still be added: a name has at most one.</summary>
    public bool TryAddCname()
    {
        if (_hasCname)
        {
            return false;
        }

        _hasCname = true;
        return true;
    }

    public void Answer(byte[] owner, ZoneRecord record, ushort priority = 0, ushort weight = 0, byte[]? soa = null) =>
        _answers.Add(new Item(owner, record, priority, weight, soa));

    public void Additional(byte[] owner, ZoneRecord record) => _additional.Add(new Item(owner, record, 0, 0, null));

    /// <summary>The records, written as if the question sat at offset 12; null when there is no answer.</summary>
    public PrecomputedRecords? Encode()
    {
        if (_answers.Count == 0)
        {
            return null;
        }

        byte[] buffer = new byte[ushort.MaxValue];
        var writer = new DnsMessageWriter(buffer, new ushort[512]);
        writer.TryWriteBytes(new byte[DnsHeader.Size]);
        writer.TryWriteQuestion(question, 0, 0);
        int start = writer.Position;
        var ends = new List<int>();
        int answers = 0;
        foreach (Item item in _answers)
        {
            if (!TryWrite(ref writer, item))
            {
                break;
            }

            ends.Add(writer.Position - start);
            answers++;
        }

        foreach (Item item in _additional)
        {
            if (!TryWrite(ref writer, item))
            {
                break;
            }

            ends.Add(writer.Position - start);
        }

        return new PrecomputedRecords(buffer[start..writer.Position], [.. ends], answers, authorityCount: 0);
    }

    private static bool TryWrite(ref DnsMessageWriter writer, Item item)
    {
        int start = writer.Position;
        ZoneRecord record = item.Record;
        if (!writer.TryBeginRecord(item.Owner, (ushort)record.Type, (ushort)DnsClass.IN, record.Ttl, out int rdLength))
        {
            return false;
        }

        bool written = item.Soa is { } soa
            ? writer.TryWriteBytes(soa)
            : record.TryWriteData(ref writer, item.Priority, item.Weight);
        if (!written)
        {
            writer.Rewind(start);
            return false;
        }

        writer.EndRecord(rdLength);
        return true;
    }

    private sealed record Item(byte[] Owner, ZoneRecord Record, ushort Priority, ushort Weight, byte[]? Soa);
}
