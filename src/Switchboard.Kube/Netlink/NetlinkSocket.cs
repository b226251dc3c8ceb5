using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Switchboard.Kube.Netlink;

/// <summary>
/// A raw AF_NETLINK socket (.NET's <c>Socket</c> refuses that family), created inside a named network namespace: a
/// short-lived thread enters the namespace with setns(2) and makes the socket, which stays bound to that namespace's
/// netfilter whichever thread uses it later (<see cref="OpenHere"/>: in the calling thread's namespace). Requests are
/// answered inside send(2), so the replies are read without waiting once it returns.
/// </summary>
public sealed unsafe partial class NetlinkSocket : IDisposable
{
    public const int NetlinkRoute = 0;
    public const int NetlinkSockDiag = 4;
    public const int NetlinkNetfilter = 12;

    private const int AfNetlink = 16;
    private const int SockRawCloexec = 3 | 0x80000;
    private const int CloneNewNet = 0x40000000;
    private const int SolSocket = 1;
    private const int SoSndBufForce = 32;
    private const int SoRcvBufForce = 33;
    private const int SolNetlink = 270;
    private const int SoRcvTimeo = 20;
    private const int NetlinkAddMembership = 1;
    private const int NetlinkCapAck = 10;
    private const int NetlinkExtAck = 11;
    private const int MsgDontWait = 0x40;
    private const int EAgain = 11;
    private const int EIntr = 4;
    private const int ENoBufs = 105;
    private const ushort NlmsgError = 2;
    private const ushort FlagCapped = 0x100;
    private const ushort FlagAckTlvs = 0x200;
    private const ushort ExtAckMessage = 1;
    private const int ReceiveBufferSize = 8 << 20;

    private readonly byte[] _receive = new byte[128 * 1024];
    private int _fd;
    private int _sendBuffer;
    private TimeSpan _receiveTimeout;

    private NetlinkSocket(int fd) => _fd = fd;

    /// <summary>Opens a socket of <paramref name="protocol"/> in the network namespace /run/netns/<paramref name="networkNamespace"/>.</summary>
    public static NetlinkSocket Open(string networkNamespace, int protocol)
    {
        int fd = InNamespace(networkNamespace, () => Check(Socket(AfNetlink, SockRawCloexec, protocol), "socket(AF_NETLINK)"));
        return Bound(fd);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a thread of its own inside the network namespace /run/netns/<paramref name="networkNamespace"/>
    /// (what it makes there, sockets, stays there) and returns its result. The thread ends inside the namespace it
    /// entered; the runtime never reuses it, so no other work runs there.
    /// </summary>
    public static T InNamespace<T>(string networkNamespace, Func<T> action)
    {
        if (string.IsNullOrEmpty(networkNamespace) || networkNamespace.Contains('/', StringComparison.Ordinal) || networkNamespace is "." or "..")
        {
            throw new ArgumentException($"'{networkNamespace}' is not a network namespace name", nameof(networkNamespace));
        }

        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/run/netns", networkNamespace));
                Check(SetNs((int)handle.DangerousGetHandle(), CloneNewNet), $"setns into {networkNamespace}");
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { IsBackground = true, Name = "netlink " + networkNamespace };
        thread.Start();
        thread.Join();
        return failure is null ? result : throw failure;
    }

    /// <summary>Opens a socket of <paramref name="protocol"/> in the network namespace of the calling thread.</summary>
    public static NetlinkSocket OpenHere(int protocol) => Bound(Check(Socket(AfNetlink, SockRawCloexec, protocol), "socket(AF_NETLINK)"));

    private static NetlinkSocket Bound(int fd)
    {
        var socket = new NetlinkSocket(fd);
        try
        {
            Span<byte> address = stackalloc byte[12];
            address.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(address, AfNetlink);
            fixed (byte* a = address)
            {
                Check(Bind(fd, a, address.Length), "bind(AF_NETLINK)");
            }

            // Errors name only the failed message's header (not its whole payload), plus the kernel's explanation.
            socket.SetOption(SolNetlink, NetlinkCapAck, 1);
            socket.SetOption(SolNetlink, NetlinkExtAck, 1);
            socket.SetOption(SolSocket, SoRcvBufForce, ReceiveBufferSize);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="messages"/> as one datagram (one nfnetlink batch is one datagram).</summary>
    public void Send(ReadOnlySpan<byte> messages)
    {
        // The kernel refuses a datagram larger than the send buffer, which setsockopt doubles.
        if (messages.Length + 4096 > _sendBuffer)
        {
            _sendBuffer = Math.Max(messages.Length + 4096, 1 << 20);
            SetOption(SolSocket, SoSndBufForce, _sendBuffer);
        }

        fixed (byte* m = messages)
        {
            nint sent;
            while ((sent = SendTo(_fd, m, (nuint)messages.Length, 0)) < 0 && Marshal.GetLastPInvokeError() == EIntr)
            {
            }

            Check((int)Math.Min(sent, 0), "send to netlink");
        }
    }

    /// <summary>Reads every reply queued now and adds the NLMSG_ERROR ones (ACKs and errors) to <paramref name="replies"/>.</summary>
    public void DrainReplies(List<NetlinkReply> replies)
    {
        while (true)
        {
            nint received;
            fixed (byte* r = _receive)
            {
                received = Recv(_fd, r, (nuint)_receive.Length, MsgDontWait);
            }

            if (received < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EAgain)
                {
                    return;
                }

                if (errno != EIntr)
                {
                    // ENOBUFS: replies were dropped, so the outcome of some messages is unknown.
                    throw new IOException($"reading netlink replies failed: errno {errno} ({Errno.Name(errno)})");
                }

                continue;
            }

            Parse(_receive.AsSpan(0, (int)received), replies);
        }
    }

    /// <summary>Joins multicast group <paramref name="group"/> (ctnetlink's NEW 1, UPDATE 2, DESTROY 3).</summary>
    public void JoinGroup(int group) => SetOption(SolNetlink, NetlinkAddMembership, group);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for one datagram (events and replies alike) into <paramref name="buffer"/>;
    /// returns its length, 0 when none came in time, or -ENOBUFS when the kernel dropped messages for a full queue.
    /// </summary>
    public int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        if (timeout != _receiveTimeout)
        {
            long* timeval = stackalloc long[2];
            timeval[0] = timeout.Ticks / TimeSpan.TicksPerSecond;
            timeval[1] = timeout.Ticks % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond;
            Check(SetSockOpt(_fd, SolSocket, SoRcvTimeo, timeval, 2 * sizeof(long)), "setsockopt(SO_RCVTIMEO)");
            _receiveTimeout = timeout;
        }

        while (true)
        {
            nint received;
            fixed (byte* r = buffer)
            {
                received = Recv(_fd, r, (nuint)buffer.Length, 0);
            }

            if (received >= 0)
            {
                return (int)received;
            }

            int errno = Marshal.GetLastPInvokeError();
            switch (errno)
            {
                case EAgain:
                    return 0;
                case ENoBufs:
                    return -ENoBufs;
                case EIntr:
                    continue;
                default:
                    throw new IOException($"reading netlink failed: errno {errno} ({Errno.Name(errno)})");
            }
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            _ = Close(_fd);
            _fd = -1;
        }
    }

    private static void Parse(ReadOnlySpan<byte> datagram, List<NetlinkReply> replies)
    {
        while (datagram.Length >= NetlinkWriter.HeaderSize)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            if (length < NetlinkWriter.HeaderSize || length > datagram.Length)
            {
                return;
            }

            ReadOnlySpan<byte> message = datagram[..length];
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);
            uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
            if (type == NlmsgError && length >= NetlinkWriter.HeaderSize + 4 + NetlinkWriter.HeaderSize)
            {
                int error = BinaryPrimitives.ReadInt32LittleEndian(message[16..]);
                string? text = null;
                if ((flags & FlagAckTlvs) != 0)
                {
                    int original = (flags & FlagCapped) != 0
                        ? NetlinkWriter.HeaderSize
                        : Align((int)BinaryPrimitives.ReadUInt32LittleEndian(message[20..]));
                    text = ExtendedAckText(message[Math.Min(length, 20 + original)..]);
                }

                replies.Add(new NetlinkReply(sequence, error, text));
            }

            datagram = datagram[Math.Min(Align(length), datagram.Length)..];
        }
    }

    private static string? ExtendedAckText(ReadOnlySpan<byte> attributes)
    {
        while (attributes.Length >= 4)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            int type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3FFF;
            if (length < 4 || length > attributes.Length)
            {
                return null;
            }

            if (type == ExtAckMessage)
            {
                return Encoding.UTF8.GetString(attributes[4..length]).TrimEnd('\0');
            }

            attributes = attributes[Math.Min(Align(length), attributes.Length)..];
        }

        return null;
    }

    private static int Align(int length) => (length + 3) & ~3;

    private void SetOption(int level, int name, int value) =>
        Check(SetSockOpt(_fd, level, name, &value, sizeof(int)), $"setsockopt({level}, {name})");

    private static int Check(int result, string what)
    {
        if (result < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"{what} failed: errno {errno} ({Errno.Name(errno)})");
        }

        return result;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, byte* address, int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SendTo(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
