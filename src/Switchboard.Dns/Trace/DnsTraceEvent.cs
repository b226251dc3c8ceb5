using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Switchboard.Dns.Operations;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Wire;
using Switchboard.Kube.Trace;

namespace Switchboard.Dns.Trace;

/// <summary>One answered query as a trace shows it, decoded from what <see cref="DnsTraceBuffer"/> kept; its JSON is docs/trace.md's schema.</summary>
public sealed record DnsTraceEvent(
    long Sequence,
    DateTimeOffset Time,
    IPEndPoint? Client,
    bool OverTcp,
    string Name,
    string Type,
    DnsAnswerSource Source,
    string? SkyDnsKey,
    IPEndPoint? Upstream,
    IReadOnlyList<DnsTraceAnswer> Answers,
    string Rcode,
    TimeSpan Latency) : ITraceEvent
{
    /// <summary>Hubble-style verdict: ANSWERED for NOERROR (records or none), else the rcode (NXDOMAIN, SERVFAIL, REFUSED, …).</summary>
    public string Verdict => Rcode == "NOERROR" ? "ANSWERED" : Rcode;

    /// <summary>One JSON object, no newline.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("type", "dns");
        writer.WriteNumber("sequence", Sequence);
        writer.WriteString("time", TraceStream.FormatTime(Time));
        if (Client is not null)
        {
            writer.WriteStartObject("client");
            writer.WriteString("ip", Client.Address.ToString());
            writer.WriteNumber("port", Client.Port);
            writer.WriteEndObject();
        }

        writer.WriteString("transport", OverTcp ? "tcp" : "udp");
        writer.WriteString("name", Name);
        writer.WriteString("qtype", Type);
        writer.WriteString("source", Source.ToString().ToLowerInvariant());
        if (SkyDnsKey is not null)
        {
            writer.WriteString("skydnsKey", SkyDnsKey);
        }

        if (Upstream is not null)
        {
            writer.WriteString("upstream", Upstream.ToString());
        }

        writer.WriteStartArray("answers");
        foreach (DnsTraceAnswer answer in Answers)
        {
            writer.WriteStartObject();
            writer.WriteString("type", answer.Type);
            writer.WriteNumber("ttl", answer.Ttl);
            writer.WriteString("data", answer.Data);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("rcode", Rcode);
        writer.WriteString("verdict", Verdict);
        writer.WriteNumber("latencyMs", Math.Round(Latency.TotalMilliseconds, 3));
        writer.WriteEndObject();
    }

    /// <summary>Decodes the kept start of a response; records cut off are left out.</summary>
    internal static DnsTraceEvent FromResponse(
        long sequence, DateTimeOffset time, IPEndPoint? client, bool overTcp, DnsAnswerSource source, string skyDnsPrefix, IPEndPoint? upstream, ReadOnlySpan<byte> response, TimeSpan latency)
    {
        string name = "?";
        string type = "?";
        string rcode = DnsMetrics.CodeName(response.Length >= DnsHeader.Size ? response[3] & 0xF : 0);
        var answers = new List<DnsTraceAnswer>();
        Span<byte> buffer = stackalloc byte[DnsName.MaxLength];
        if (response.Length > DnsHeader.Size && DnsName.TryRead(response, DnsHeader.Size, buffer, out int nameLength, out int end) && end + 4 <= response.Length)
        {
            name = DnsName.ToText(buffer[..nameLength]);
            type = TypeName(BinaryPrimitives.ReadUInt16BigEndian(response[end..]));
            ReadAnswers(response, end + 4, BinaryPrimitives.ReadUInt16BigEndian(response[6..]), answers);
        }

        string? skyDnsKey = source == DnsAnswerSource.SkyDns ? SkyDnsPath.FromName(skyDnsPrefix, name.ToLowerInvariant()) : null;
        return new DnsTraceEvent(sequence, time, client, overTcp, name, type, source, skyDnsKey, upstream, answers, rcode, latency);
    }

    private static void ReadAnswers(ReadOnlySpan<byte> message, int position, int count, List<DnsTraceAnswer> answers)
    {
        Span<byte> buffer = stackalloc byte[DnsName.MaxLength];
        for (int i = 0; i < count; i++)
        {
            if (!DnsName.TrySkip(message, position, out int end) || end + 10 > message.Length)
            {
                return;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[end..]);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(end + 4)..]);
            int dataLength = BinaryPrimitives.ReadUInt16BigEndian(message[(end + 8)..]);
            int data = end + 10;
            if (data + dataLength > message.Length)
            {
                return;
            }

            ReadOnlySpan<byte> rdata = message.Slice(data, dataLength);
            string? text = (DnsRecordType)type switch
            {
                DnsRecordType.A when dataLength == 4 => new IPAddress(rdata).ToString(),
                DnsRecordType.AAAA when dataLength == 16 => new IPAddress(rdata).ToString(),
                DnsRecordType.CNAME or DnsRecordType.PTR or DnsRecordType.NS => DnsName.TryRead(message, data, buffer, out int length, out _) ? DnsName.ToText(buffer[..length]) : null,
                DnsRecordType.SRV when dataLength > 6 && DnsName.TryRead(message, data + 6, buffer, out int target, out _) => string.Create(
                    CultureInfo.InvariantCulture,
                    $"{BinaryPrimitives.ReadUInt16BigEndian(rdata)} {BinaryPrimitives.ReadUInt16BigEndian(rdata[2..])} {BinaryPrimitives.ReadUInt16BigEndian(rdata[4..])} {DnsName.ToText(buffer[..target])}"),
                _ => Convert.ToHexString(rdata),
            };
            answers.Add(new DnsTraceAnswer(TypeName(type), ttl, text ?? "?"));
            position = data + dataLength;
        }
    }

    private static string TypeName(ushort type) =>
        Enum.IsDefined((DnsRecordType)type) ? ((DnsRecordType)type).ToString() : "TYPE" + type.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One record of an answer section: its type, TTL and data in presentation form.</summary>
public sealed record DnsTraceAnswer(string Type, uint Ttl, string Data);
