using System.Buffers.Binary;
using System.Net;
using System.Text;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Support;

/// <summary>An independent, strict reader of responses for assertions; records are rendered in dig-like text.</summary>
internal sealed record TestResponse(
    DnsHeader Header,
    string QuestionName,
    int QuestionType,
    IReadOnlyList<TestRecord> Answers,
    IReadOnlyList<TestRecord> Authority,
    IReadOnlyList<TestRecord> Additional,
    int Length)
{
    public DnsResponseCode Code => (DnsResponseCode)(Header.ResponseCode | (int)((Opt?.Ttl >> 24 ?? 0) << 4));

    public bool Authoritative => Header.IsAuthoritative;

    public bool Truncated => Header.IsTruncated;

    public TestRecord? Opt => Additional.FirstOrDefault(r => r.Type == DnsRecordType.OPT);

    public IEnumerable<string> AnswerData => Answers.Select(a => a.Data);

    public static TestResponse Parse(ReadOnlySpan<byte> message)
    {
        Assert.True(DnsHeader.TryRead(message, out DnsHeader header), "response shorter than a header");
        int position = DnsHeader.Size;
        string questionName = string.Empty;
        int questionType = 0;
        if (header.QuestionCount == 1)
        {
            questionName = ReadName(message, ref position);
            questionType = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
            position += 4;
        }

        List<TestRecord> answers = ReadRecords(message, ref position, header.AnswerCount);
        List<TestRecord> authority = ReadRecords(message, ref position, header.AuthorityCount);
        List<TestRecord> additional = ReadRecords(message, ref position, header.AdditionalCount);
        Assert.Equal(message.Length, position);
        return new TestResponse(header, questionName, questionType, answers, authority, additional, message.Length);
    }

    private static List<TestRecord> ReadRecords(ReadOnlySpan<byte> message, ref int position, int count)
    {
        var records = new List<TestRecord>(count);
        for (int i = 0; i < count; i++)
        {
            string owner = ReadName(message, ref position);
            var type = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
            ushort @class = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(position + 4)..]);
            int rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 8)..]);
            position += 10;
            int rdata = position;
            string data = Render(message, type, rdata, rdLength);
            position = rdata + rdLength;
            records.Add(new TestRecord(owner, type, @class, ttl, data));
        }

        return records;
    }

    private static string Render(ReadOnlySpan<byte> message, DnsRecordType type, int offset, int length)
    {
        ReadOnlySpan<byte> rdata = message.Slice(offset, length);
        int position = offset;
        switch (type)
        {
            case DnsRecordType.A or DnsRecordType.AAAA:
                return new IPAddress(rdata).ToString();
            case DnsRecordType.CNAME or DnsRecordType.PTR or DnsRecordType.NS:
                return ReadName(message, ref position);
            case DnsRecordType.SRV:
                position += 6;
                string target = ReadName(message, ref position);
                return $"{BinaryPrimitives.ReadUInt16BigEndian(rdata)} {BinaryPrimitives.ReadUInt16BigEndian(rdata[2..])} {BinaryPrimitives.ReadUInt16BigEndian(rdata[4..])} {target}";
            case DnsRecordType.SOA:
                string mname = ReadName(message, ref position);
                string rname = ReadName(message, ref position);
                ReadOnlySpan<byte> numbers = message[position..];
                return $"{mname} {rname} {BinaryPrimitives.ReadUInt32BigEndian(numbers)} {BinaryPrimitives.ReadUInt32BigEndian(numbers[4..])} "
                    + $"{BinaryPrimitives.ReadUInt32BigEndian(numbers[8..])} {BinaryPrimitives.ReadUInt32BigEndian(numbers[12..])} {BinaryPrimitives.ReadUInt32BigEndian(numbers[16..])}";
            case DnsRecordType.TXT:
                return "\"" + Encoding.ASCII.GetString(rdata.Slice(1, rdata[0])) + "\"";
            default:
                return Convert.ToHexString(rdata);
        }
    }

    private static string ReadName(ReadOnlySpan<byte> message, ref int position)
    {
        byte[] name = new byte[DnsName.MaxLength];
        Assert.True(DnsName.TryRead(message, position, name, out int length, out int end), $"bad name at offset {position}");
        position = end;
        return DnsName.ToText(name.AsSpan(0, length));
    }
}

internal sealed record TestRecord(string Owner, DnsRecordType Type, ushort Class, uint Ttl, string Data);
