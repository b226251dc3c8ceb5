using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Operations;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Server;

/// <summary>What the transports report per answered query: metrics always, a log line when the query log is on.</summary>
internal sealed class DnsObserver(DnsMetrics? metrics, ILogger logger, bool queryLog)
{
    public static long Start() => Stopwatch.GetTimestamp();

    /// <summary>Whether <see cref="Answered"/> wants the client's address (only the query log does).</summary>
    public bool WantsClient => queryLog;

    /// <remarks><c>address</c>, <c>endPoint</c>: the client as the transport has it (only turned into text for the log).</remarks>
    public void Answered(ReadOnlySpan<byte> response, long started, bool overTcp, SocketAddress? address, EndPoint? endPoint)
    {
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        metrics?.CountRequest(response, elapsed);
        if (queryLog && logger.IsEnabled(LogLevel.Information))
        {
            Log(response, elapsed, overTcp, address is null ? endPoint : new IPEndPoint(IPAddress.Any, 0).Create(address));
        }
    }

    private void Log(ReadOnlySpan<byte> response, TimeSpan elapsed, bool overTcp, EndPoint? client)
    {
        string name = "?";
        string type = "?";
        Span<byte> buffer = stackalloc byte[DnsName.MaxLength];
        if (response.Length > DnsHeader.Size && DnsName.TryRead(response, DnsHeader.Size, buffer, out int length, out int end) && end + 2 <= response.Length)
        {
            name = DnsName.ToText(buffer[..length]);
            type = ((DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(response[end..])).ToString();
        }

        string code = DnsMetrics.CodeName(response.Length >= DnsHeader.Size ? response[3] & 0xF : 0);
        DnsServerLog.Query(logger, client?.ToString() ?? "?", overTcp ? "tcp" : "udp", name, type, code, response.Length, elapsed.TotalMilliseconds);
    }
}
