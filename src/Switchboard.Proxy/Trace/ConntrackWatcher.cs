using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Netlink;
using Switchboard.Proxy.Nftables;

namespace Switchboard.Proxy.Trace;

/// <summary>
/// Connection events of the kernel modes (iptables, nftables), from inside the node's namespace, into a
/// <see cref="ConnectionTrace"/>: conntrack's NEW and DESTROY multicast groups give each flow to a service address when
/// the kernel confirms it (its reply tuple names the endpoint the DNAT chose) and when it ends (with accounting on, its
/// bytes and packets; unanswered, a timeout). A connection REJECTed for want of endpoints never reaches conntrack (its
/// entry dies unconfirmed), so the ICMP port unreachable that the reject sends back is logged instead (a table
/// <c>ip switchboard-trace</c> with one output rule, <c>icmp type destination-unreachable icmp code port-unreachable log
/// group 1700</c>): the rejected packet's addresses are inside it, and one whose service has no endpoints is REJECTED.
/// Both come on one netlink socket read by one thread of its own, which blocks while nothing happens.
/// </summary>
internal sealed partial class ConntrackWatcher : IDisposable
{
    /// <summary>The nfnetlink_log group the reject rule logs to (one per network namespace).</summary>
    public const ushort LogGroup = 1700;

    private const string Table = "switchboard-trace";
    private const string Chain = "output";
    private const ushort NewEvent = (1 << 8) | 0;
    private const ushort DeleteEvent = (1 << 8) | 2;
    private const ushort LogPacket = 4 << 8;
    private const ushort LogConfig = (4 << 8) | 1;
    private const int GroupNew = 1;
    private const int GroupDestroy = 3;
    private const uint SeenReply = 0x2;
    private const byte TcpSynSent = 1;
    private static readonly TimeSpan Wake = TimeSpan.FromSeconds(1);

    private readonly string _namespace;
    private readonly ConnectionTrace _trace;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<uint, long> _started = [];
    private readonly Thread _thread;
    private volatile bool _stopping;
    private NetlinkSocket? _socket;

    private ConntrackWatcher(string networkNamespace, ConnectionTrace trace, ILogger logger, TimeProvider time)
    {
        _namespace = networkNamespace;
        _trace = trace;
        _logger = logger;
        _time = time;
        _thread = new Thread(Run) { IsBackground = true, Name = "conntrack trace" };
    }

    /// <summary>Turns on conntrack accounting and timestamps in the namespace (per namespace: never the host's), subscribes and starts reading.</summary>
    public static async Task<ConntrackWatcher> StartAsync(string networkNamespace, ConnectionTrace trace, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        var sysctl = await NetnsProcess.RunAsync(
            networkNamespace, "sysctl", ["-w", "net.netfilter.nf_conntrack_acct=1", "net.netfilter.nf_conntrack_timestamp=1"], ReadOnlyMemory<byte>.Empty, cancellationToken);
        if (sysctl.ExitCode != 0)
        {
            LogNoAccounting(logger, networkNamespace, sysctl.Stderr.Trim());
        }

        var watcher = new ConntrackWatcher(networkNamespace, trace, logger, time);
        try
        {
            watcher.Subscribe();
        }
        catch
        {
            watcher.Dispose();
            throw;
        }

        watcher._thread.Start();
        return watcher;
    }

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive)
        {
            _thread.Join();
        }

        _socket?.Dispose();
    }

    private void Subscribe()
    {
        _socket = NetlinkSocket.Open(_namespace, NetlinkSocket.NetlinkNetfilter);
        _socket.JoinGroup(GroupNew);
        _socket.JoinGroup(GroupDestroy);

        // nfnetlink_log: bind this socket to the group, copying the first 128 bytes of each logged packet.
        using var w = new NetlinkWriter();
        int message = w.BeginMessage(LogConfig, 0x1 | 0x4, 1, 2, LogGroup);
        w.U8(1, 1); // NFULA_CFG_CMD: NFULNL_CFG_CMD_BIND
        w.Bytes(2, [0, 0, 0, 128, 2, 0]); // NFULA_CFG_MODE: copy_range be32 128, NFULNL_COPY_PACKET
        w.EndMessage(message);
        _socket.Send(w.Written);
        var replies = new List<NetlinkReply>();
        _socket.DrainReplies(replies);
        if (replies.Where(r => r.Error != 0).Select(r => (int?)r.Error).FirstOrDefault() is { } refused)
        {
            throw new IOException($"binding nfnetlink_log group {LogGroup} in {_namespace} failed: {Errno.Name(-refused)}");
        }

        InstallRejectLog(replies);
    }

    /// <summary>The table whose one rule logs every ICMP port unreachable the namespace sends (what REJECT answers with).</summary>
    private void InstallRejectLog(List<NetlinkReply> replies)
    {
        using var socket = NetlinkSocket.Open(_namespace, NetlinkSocket.NetlinkNetfilter);
        using (var delete = new NftBatch(Table))
        {
            delete.Begin(1, ackEach: true);
            delete.DeleteTable();
            delete.End();
            try
            {
                delete.Commit(socket, _namespace, replies);
            }
            catch (NftablesException)
            {
                // Not there yet: the usual case.
            }
        }

        using var b = new NftBatch(Table);
        b.Begin(10, ackEach: true);
        b.AddTable();
        b.AddBaseChain(Chain, "filter", hook: 3, priority: 0); // NF_INET_LOCAL_OUT: the ICMP leaves from the namespace itself
        b.BeginRule(Chain);
        b.Meta(NftMetaKey.L4Protocol, NftBatch.Reg1);
        b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, [1]); // icmp
        b.Payload(NftPayloadBase.Transport, 0, 2, NftBatch.Reg1);
        b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, [3, 3]); // destination unreachable, port unreachable
        b.LogGroup(LogGroup);
        b.EndRule();
        b.End();
        b.Commit(socket, _namespace, replies);
    }

    private void Run()
    {
        byte[] buffer = new byte[256 * 1024];
        while (!_stopping)
        {
            try
            {
                int received = _socket!.Receive(buffer, Wake);
                if (received < 0)
                {
                    LogOverrun(_logger, _namespace);
                    continue;
                }

                ReadOnlySpan<byte> datagram = buffer.AsSpan(0, received);
                while (datagram.Length >= NetlinkWriter.HeaderSize)
                {
                    int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
                    if (length < NetlinkWriter.HeaderSize || length > datagram.Length)
                    {
                        break;
                    }

                    Handle(datagram[..length]);
                    datagram = datagram[Math.Min((length + 3) & ~3, datagram.Length)..];
                }
            }
            catch (Exception e) when (e is IOException or ArgumentException or IndexOutOfRangeException)
            {
                LogReadFailed(_logger, _namespace, e.Message);
                Thread.Sleep(Wake);
            }
        }
    }

    private void Handle(ReadOnlySpan<byte> message)
    {
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
        ReadOnlySpan<byte> attributes = message[(NetlinkWriter.HeaderSize + 4)..];
        switch (type)
        {
            case NewEvent or DeleteEvent:
                Flow(type == NewEvent, attributes);
                break;
            case LogPacket when Attribute(attributes, 9) is { Length: > 0 } payload: // NFULA_PAYLOAD
                Rejected(payload);
                break;
        }
    }

    private void Flow(bool opened, ReadOnlySpan<byte> attributes)
    {
        if (!Tuple(Attribute(attributes, 1), out var client, out var destination, out byte proto)
            || Protocol(proto) is not { } protocol
            || _trace.Find(destination.Address, destination.Port, protocol) is not { } service)
        {
            return;
        }

        Tuple(Attribute(attributes, 2), out var reply, out _, out _);
        uint id = Be32(Attribute(attributes, 12));
        uint status = Be32(Attribute(attributes, 3));
        IPEndPoint? endpoint = reply.Address.Equals(IPAddress.Any) ? null : reply;
        if (opened)
        {
            if (_started.Count > 65536)
            {
                _started.Clear(); // flows whose end was never seen: bounded
            }

            _started[id] = _time.GetTimestamp();
            _trace.Record(protocol, ConnectionTraceEvent.Opened, client, destination, service.Name, endpoint, ConnectionTraceEvent.Forwarded);
            return;
        }

        TimeSpan? duration = null;
        ReadOnlySpan<byte> timestamp = Attribute(attributes, 20);
        if (Be64(Attribute(timestamp, 1)) is var start and > 0 && Be64(Attribute(timestamp, 2)) is var stop and > 0 && stop >= start)
        {
            duration = TimeSpan.FromTicks((long)(stop - start) / 100);
        }
        else if (_started.TryGetValue(id, out long started))
        {
            duration = _time.GetElapsedTime(started);
        }

        _started.Remove(id);
        ReadOnlySpan<byte> sent = Attribute(attributes, 9);
        ReadOnlySpan<byte> received = Attribute(attributes, 10);
        FlowCounters? counters = sent.IsEmpty ? null : new FlowCounters(Be64(Attribute(sent, 2)), Be64(Attribute(received, 2)), Be64(Attribute(sent, 1)), Be64(Attribute(received, 1)));
        ReadOnlySpan<byte> tcpState = Attribute(Attribute(Attribute(attributes, 4), 1), 1);
        bool unanswered = (status & SeenReply) == 0 || (tcpState.Length == 1 && tcpState[0] == TcpSynSent);
        _trace.Record(
            protocol, ConnectionTraceEvent.Closed, client, destination, service.Name, endpoint, unanswered ? ConnectionTraceEvent.TimedOut : ConnectionTraceEvent.Forwarded, duration, counters);
    }

    /// <summary>A logged ICMP port unreachable: the rejected packet's header and first 8 bytes are inside it.</summary>
    private void Rejected(ReadOnlySpan<byte> packet)
    {
        int outer = (packet[0] & 0xF) * 4;
        if (packet.Length < outer + 8 + 20 || packet[9] != 1)
        {
            return;
        }

        ReadOnlySpan<byte> inner = packet[(outer + 8)..];
        int header = (inner[0] & 0xF) * 4;
        if (inner.Length < header + 4 || Protocol(inner[9]) is not { } protocol)
        {
            return;
        }

        var client = new IPEndPoint(new IPAddress(inner[12..16]), BinaryPrimitives.ReadUInt16BigEndian(inner[header..]));
        var destination = new IPEndPoint(new IPAddress(inner[16..20]), BinaryPrimitives.ReadUInt16BigEndian(inner[(header + 2)..]));
        if (_trace.Find(destination.Address, destination.Port, protocol) is { HasEndpoints: false } service)
        {
            _trace.Record(protocol, ConnectionTraceEvent.Rejected, client, destination, service.Name, null, ConnectionTraceEvent.Refused);
        }
    }

    /// <summary>CTA_TUPLE_IP {V4_SRC 1, V4_DST 2} and CTA_TUPLE_PROTO {NUM 1, SRC_PORT 2, DST_PORT 3}.</summary>
    private static bool Tuple(ReadOnlySpan<byte> tuple, out IPEndPoint source, out IPEndPoint destination, out byte protocol)
    {
        ReadOnlySpan<byte> ip = Attribute(tuple, 1);
        ReadOnlySpan<byte> proto = Attribute(tuple, 2);
        ReadOnlySpan<byte> src = Attribute(ip, 1);
        ReadOnlySpan<byte> dst = Attribute(ip, 2);
        ReadOnlySpan<byte> number = Attribute(proto, 1);
        protocol = number.IsEmpty ? (byte)0 : number[0];
        source = new IPEndPoint(src.Length == 4 ? new IPAddress(src) : IPAddress.Any, Be16(Attribute(proto, 2)));
        destination = new IPEndPoint(dst.Length == 4 ? new IPAddress(dst) : IPAddress.Any, Be16(Attribute(proto, 3)));
        return src.Length == 4 && dst.Length == 4;
    }

    private static string? Protocol(byte number) => number switch { 6 => "tcp", 17 => "udp", 132 => "sctp", _ => null };

    /// <summary>The payload of attribute <paramref name="type"/> (nested or not), or empty.</summary>
    private static ReadOnlySpan<byte> Attribute(ReadOnlySpan<byte> attributes, int type)
    {
        while (attributes.Length >= 4)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            if (length < 4 || length > attributes.Length)
            {
                break;
            }

            if ((BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3FFF) == type)
            {
                return attributes[4..length];
            }

            attributes = attributes[Math.Min((length + 3) & ~3, attributes.Length)..];
        }

        return [];
    }

    private static int Be16(ReadOnlySpan<byte> value) => value.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(value) : 0;

    private static uint Be32(ReadOnlySpan<byte> value) => value.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(value) : 0;

    private static ulong Be64(ReadOnlySpan<byte> value) => value.Length >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(value) : 0;

    [LoggerMessage(EventId = 6200, Level = LogLevel.Warning, Message = "connection trace in {Namespace}: conntrack accounting not turned on, closes will show no bytes: {Error}")]
    private static partial void LogNoAccounting(ILogger logger, string @namespace, string error);

    [LoggerMessage(EventId = 6201, Level = LogLevel.Warning, Message = "connection trace in {Namespace}: the kernel dropped conntrack events (receive queue full)")]
    private static partial void LogOverrun(ILogger logger, string @namespace);

    [LoggerMessage(EventId = 6202, Level = LogLevel.Warning, Message = "connection trace in {Namespace}: reading events failed: {Error}")]
    private static partial void LogReadFailed(ILogger logger, string @namespace, string error);
}
