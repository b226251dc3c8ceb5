using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Operations;
using Switchboard.Dns.Trace;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Server;

/// <summary>What the transports report per answered query: metrics always, the trace buffer when kept, a log line when the query log is on.</summary>
internal sealed class DnsObserver(DnsMetrics? metrics, ILogger logger, bool queryLog, DnsTraceBuffer? trace = null)
{
    public static long Start() => Stopwatch.GetTimestamp();

    /// <remarks>
    /// <c>client</c>: the client's native socket address when the transport has it as bytes (empty otherwise);
    /// <c>endPoint</c>: the client when the transport has it as an object. <c>upstream</c>: who answered a forwarded query.
    /// </remarks>
    public void Answered(
        ReadOnlySpan<byte> response, long started, bool overTcp, DnsAnswerSource source, ReadOnlySpan<byte> client, EndPoint? endPoint, IPEndPoint? upstream = null)
    {
        long now = Stopwatch.GetTimestamp();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started, now);
        metrics?.CountRequest(response, elapsed);
        if (trace is not null)
        {
            if (client.IsEmpty && endPoint is not null)
            {
                SocketAddress address = endPoint.Serialize();
                client = address.Buffer.Span[..address.Size];
            }

            trace.Record(response, started, now - started, overTcp, client, source, upstream);
        }

        if (queryLog && logger.IsEnabled(LogLevel.Information))
        {
            Log(response, elapsed, overTcp, endPoint ?? (client.IsEmpty ? null : ToEndPoint(client)));
        }
    }

    /// <summary>
    /// Reports the replies queued in a UDP batch, all answered between <paramref name="started"/> (the batch's arrival)
    /// and now: one clock read, one duration observation and one trace reservation for the batch, not one each per query.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Answered(UdpBatch batch, ReadOnlySpan<DnsAnswerSource> sources, long started)
    {
        int count = batch.Queued;
        if (count == 0)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(started, now);
        metrics?.ObserveDuration(elapsed, count);
        long sequence = trace?.Reserve(count) ?? 0;
        bool log = queryLog && logger.IsEnabled(LogLevel.Information);
        for (int k = 0; k < count; k++)
        {
            ReadOnlySpan<byte> response = batch.Sent(k);
            metrics?.CountAnswer(response);
            trace?.Record(sequence + k, response, started, now - started, overTcp: false, batch.SentTo(k), sources[k], upstream: null);
            if (log)
            {
                Log(response, elapsed, overTcp: false, ToEndPoint(batch.SentTo(k)));
            }
        }
    }

    private static IPEndPoint ToEndPoint(ReadOnlySpan<byte> native)
    {
        var address = new SocketAddress((System.Net.Sockets.AddressFamily)BitConverter.ToUInt16(native), native.Length);
        native.CopyTo(address.Buffer.Span);
        return (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address);
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
