using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Support;

/// <summary>What the fake upstream answers to one question.</summary>
internal sealed record FakeReply(DnsResponseCode Code, IReadOnlyList<string> Addresses, uint Ttl = 300, (uint Ttl, uint Minimum)? Soa = null, bool TruncateOverUdp = false)
{
    public static FakeReply Address(uint ttl, params string[] addresses) => new(DnsResponseCode.NoError, addresses, ttl);

    public static FakeReply NxDomain((uint Ttl, uint Minimum)? soa) => new(DnsResponseCode.NXDomain, [], Soa: soa);
}

/// <summary>
/// A scriptable upstream resolver on 127.0.0.1 (UDP and TCP on one port), built on the production codec:
/// it answers every question from <see cref="Script"/> and records each question it was asked.
/// </summary>
internal sealed class FakeUpstream : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;

    public FakeUpstream(Func<string, DnsRecordType, FakeReply> script)
    {
        Script = script;
        (_udp, _tcp) = BindSamePort();
        _tcp.Listen(16);
        EndPoint = new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)_udp.LocalEndPoint!).Port);
        _udpLoop = ServeUdpAsync();
        _tcpLoop = ServeTcpAsync();
    }

    public IPEndPoint EndPoint { get; }

    // The UDP port is picked first and may be taken for TCP by another test: try again with another, as DnsServer does.
    private static (Socket Udp, Socket Tcp) BindSamePort()
    {
        for (int attempt = 1; ; attempt++)
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)udp.LocalEndPoint!).Port));
                return (udp, tcp);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < 20)
            {
                udp.Dispose();
                tcp.Dispose();
            }
        }
    }

    public Func<string, DnsRecordType, FakeReply> Script { get; set; }

    /// <summary>Every question asked, as <c>name type transport</c> (name lower-cased, with the trailing dot).</summary>
    public ConcurrentQueue<string> Asked { get; } = new();

    public int Count(string name, DnsRecordType type) => Asked.Count(q => q.StartsWith($"{name}. {type} ", StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Dispose();
        await Task.WhenAll(_udpLoop, _tcpLoop).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task ServeUdpAsync()
    {
        byte[] buffer = new byte[ushort.MaxValue];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            byte[] reply = Answer(buffer.AsSpan(0, received.ReceivedBytes), "udp");
            await _udp.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
        }
    }

    private async Task ServeTcpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using Socket client = await _tcp.AcceptAsync(_stop.Token);
            byte[] prefix = new byte[2];
            await client.ReceiveAsync(prefix, SocketFlags.None, _stop.Token);
            byte[] query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            int filled = 0;
            while (filled < query.Length)
            {
                filled += await client.ReceiveAsync(query.AsMemory(filled), SocketFlags.None, _stop.Token);
            }

            await client.SendAsync(TestSocket.Frame(Answer(query, "tcp")), SocketFlags.None, _stop.Token);
        }
    }

    private byte[] Answer(ReadOnlySpan<byte> query, string transport)
    {
        byte[] nameBuffer = new byte[DnsName.MaxLength];
        Assert.Equal(DnsParseStatus.Ok, DnsQuery.TryParse(query, nameBuffer, out DnsQuery parsed));
        byte[] name = nameBuffer[..parsed.NameLength];
        string text = DnsName.ToText(name).ToLowerInvariant();
        var type = (DnsRecordType)parsed.QuestionType;
        Asked.Enqueue($"{text} {type} {transport}");
        FakeReply reply = Script(text.TrimEnd('.'), type);

        byte[] buffer = new byte[ushort.MaxValue];
        var writer = new DnsMessageWriter(buffer, new ushort[64]);
        writer.TryWriteBytes(new byte[DnsHeader.Size]);
        writer.TryWriteQuestion(name, parsed.QuestionType, parsed.QuestionClass);
        bool truncate = reply.TruncateOverUdp && transport == "udp";
        int answers = 0;
        foreach (string address in truncate ? [] : reply.Addresses)
        {
            writer.TryBeginRecord(name, (ushort)DnsRecordType.A, (ushort)DnsClass.IN, reply.Ttl, out int rdLength);
            writer.TryWriteBytes(IPAddress.Parse(address).GetAddressBytes());
            writer.EndRecord(rdLength);
            answers++;
        }

        int authority = 0;
        if (reply.Soa is { } soa)
        {
            writer.TryBeginRecord(DnsName.Parse("example"), (ushort)DnsRecordType.SOA, (ushort)DnsClass.IN, soa.Ttl, out int rdLength);
            writer.TryWriteName(DnsName.Parse("ns.example"));
            writer.TryWriteName(DnsName.Parse("hostmaster.example"));
            foreach (uint number in (uint[])[1, 7200, 1800, 86400, soa.Minimum])
            {
                writer.TryWriteUInt32(number);
            }

            writer.EndRecord(rdLength);
            authority = 1;
        }

        ushort flags = (ushort)(DnsHeader.ResponseFlags(parsed.Header.Flags, authoritative: false, truncate, reply.Code) | DnsHeader.RaFlag);
        new DnsHeader(parsed.Header.Id, flags, 1, (ushort)answers, (ushort)authority, 0).Write(buffer);
        return buffer[..writer.Position];
    }
}
