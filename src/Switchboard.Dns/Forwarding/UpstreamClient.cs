using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Forwarding;

/// <summary>
/// Asks upstream resolvers, in order, until one answers: over UDP from a fresh socket (a random source port)
/// with a random ID (RFC 5452), again over TCP when the UDP answer is truncated. Replies whose ID or question
/// do not match are ignored, so an off-path spoofer must guess both.
/// </summary>
internal sealed class UpstreamClient(IReadOnlyList<IPEndPoint> upstreams, TimeSpan timeout, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// Returns the length of the response written to <paramref name="response"/> (0 when no upstream answered) and the
    /// upstream that answered (or the last one tried).
    /// </summary>
    public async ValueTask<(int Length, IPEndPoint? Upstream)> ExchangeAsync(ReadOnlyMemory<byte> query, Memory<byte> response, CancellationToken cancellationToken)
    {
        byte[] outgoing = query.ToArray();
        IPEndPoint? tried = null;
        foreach (IPEndPoint upstream in upstreams)
        {
            tried = upstream;
            BinaryPrimitives.WriteUInt16BigEndian(outgoing, (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1));
            using var expiry = new CancellationTokenSource(timeout, time);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
            try
            {
                int length = await ExchangeUdpAsync(upstream, outgoing, response, attempt.Token);
                if (DnsHeader.TryRead(response.Span, out DnsHeader header) && header.IsTruncated)
                {
                    length = await ExchangeTcpAsync(upstream, outgoing, response, attempt.Token);
                }

                if (length > 0)
                {
                    return (length, upstream);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                ForwarderLog.UpstreamTimedOut(logger, upstream, timeout);
            }
            catch (SocketException e)
            {
                ForwarderLog.UpstreamFailed(logger, upstream, e.SocketErrorCode.ToString());
            }
        }

        return (0, tried);
    }

    private static async ValueTask<int> ExchangeUdpAsync(IPEndPoint upstream, byte[] query, Memory<byte> response, CancellationToken cancellationToken)
    {
        using var socket = new Socket(upstream.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(upstream, cancellationToken);
        await socket.SendAsync(query, SocketFlags.None, cancellationToken);
        while (true)
        {
            int length = await socket.ReceiveAsync(response, SocketFlags.None, cancellationToken);
            if (Matches(query, response.Span[..length]))
            {
                return length;
            }
        }
    }

    private static async ValueTask<int> ExchangeTcpAsync(IPEndPoint upstream, byte[] query, Memory<byte> response, CancellationToken cancellationToken)
    {
        using var socket = new Socket(upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(upstream, cancellationToken);
        byte[] framed = new byte[DnsTcpFraming.LengthPrefix + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, DnsTcpFraming.LengthPrefix);
        await socket.SendAsync(framed, SocketFlags.None, cancellationToken);
        if (!await DnsTcpFraming.TryReceiveExactlyAsync(socket, response[..DnsTcpFraming.LengthPrefix], cancellationToken))
        {
            return 0;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(response.Span);
        if (length > response.Length || !await DnsTcpFraming.TryReceiveExactlyAsync(socket, response[..length], cancellationToken))
        {
            return 0;
        }

        return Matches(query, response.Span[..length]) ? length : 0;
    }

    /// <summary>A response to <paramref name="query"/>: same ID, QR set, the same question (name compared case-insensitively).</summary>
    private static bool Matches(ReadOnlySpan<byte> query, ReadOnlySpan<byte> response)
    {
        if (!DnsHeader.TryRead(response, out DnsHeader header) || !header.IsResponse || header.Id != BinaryPrimitives.ReadUInt16BigEndian(query)
            || header.QuestionCount != 1 || !DnsName.TrySkip(query, DnsHeader.Size, out int questionEnd))
        {
            return false;
        }

        int questionLength = questionEnd + 4 - DnsHeader.Size;
        return response.Length >= DnsHeader.Size + questionLength
            && DnsName.EqualsIgnoreCase(query.Slice(DnsHeader.Size, questionLength), response.Slice(DnsHeader.Size, questionLength));
    }
}
