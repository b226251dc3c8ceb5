using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Switchboard.Kube.Netlink;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// Whether a TCP listener in a pod's network namespace would take a connection to an address and port of the pod,
/// asked of the kernel's own listener lookup (an exact sock_diag request, found by hash) on a netlink socket made in
/// that namespace by <paramref name="open"/> at the first question. A readiness retry asks this before it dials: where
/// nothing listens, a dial is refused for certain. The pod's /proc net tables, read before, cost a walk of the kernel's
/// whole established-connection hash per read while the pod had no connection (bench/node-cost.sh 20 under perf: some
/// 36 ms of the node's CPU per pod).
/// </summary>
internal sealed class ListeningPorts(Func<NetlinkSocket> open) : IDisposable
{
    private const ushort SockDiagByFamily = 20;
    private const ushort NlmsgError = 2;
    private const ushort FlagRequest = 1;
    private const byte IpProtoTcp = 6;

    /// <summary>struct inet_diag_req_v2: family, protocol, ext, pad, states, then the socket id (ports, addresses, interface, cookie).</summary>
    private const int RequestSize = 56;

    private const int ENoEnt = 2;
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(1);
    private NetlinkSocket? _socket;

    /// <summary>True when something listens for <paramref name="address"/>:<paramref name="port"/>, or when the kernel could not be asked (the caller then dials to find out).</summary>
    public bool Any(IPAddress address, int port)
    {
        Span<byte> message = stackalloc byte[NetlinkWriter.HeaderSize + RequestSize];
        message.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message[4..], SockDiagByFamily);
        BinaryPrimitives.WriteUInt16LittleEndian(message[6..], FlagRequest);
        var request = message[NetlinkWriter.HeaderSize..];
        request[0] = (byte)(address.AddressFamily == AddressFamily.InterNetworkV6 ? 10 : 2);
        request[1] = IpProtoTcp;
        // The socket id as the pod's side sees a connection to it: our port and address as the source, no destination;
        // a listener on the wildcard address (or a dual-stack one) is found too, as a connection would find it.
        BinaryPrimitives.WriteUInt16BigEndian(request[8..], (ushort)port);
        address.TryWriteBytes(request[12..28], out _);
        // INET_DIAG_NOCOOKIE: any socket with that id.
        request[48..56].Fill(0xFF);

        Span<byte> reply = stackalloc byte[512];
        try
        {
            _socket ??= open();
            _socket.Send(message);
            int length = _socket.Receive(reply, ReplyTimeout);
            if (length < NetlinkWriter.HeaderSize)
            {
                return true;
            }

            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(reply[4..]);
            return type == SockDiagByFamily
                || !(type == NlmsgError && length >= NetlinkWriter.HeaderSize + 4 && BinaryPrimitives.ReadInt32LittleEndian(reply[NetlinkWriter.HeaderSize..]) == -ENoEnt);
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        _socket?.Dispose();
        _socket = null;
    }
}
