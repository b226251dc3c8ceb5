using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// The Linux calls the relay loops make themselves (epoll, eventfd, non-blocking recv/send, connect): .NET's socket
/// engine would hand every readiness to the thread pool, one thread hop per read, which is most of a small
/// request's cost through a proxy.
/// </summary>
internal static unsafe partial class SocketCalls
{
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int ShutWr = 1;
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EInProgress = 115;

    private const int EpollCloexec = 0x80000;
    private const int EfdCloexec = 0x80000;
    private const int EfdNonblock = 0x800;
    private const int MsgDontWait = 0x40;
    private const int MsgNoSignal = 0x4000;
    private const int SolSocket = 1;
    private const int SoError = 4;

    /// <summary>The size of struct epoll_event: packed (12 bytes) on x86-64 only, 16 bytes elsewhere.</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int EpollDataOffset = EpollEventSize - sizeof(ulong);

    public static int EpollCreate() => Check(EpollCreate1(EpollCloexec), "epoll_create1");

    public static int EventFd() => Check(EventFdCreate(0, EfdCloexec | EfdNonblock), "eventfd");

    /// <summary>Adds or removes <paramref name="fd"/>; returns 0 or the errno.</summary>
    public static int EpollControl(int epoll, int operation, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        Unsafe.WriteUnaligned(ev, events);
        Unsafe.WriteUnaligned(ev + EpollDataOffset, data);
        return EpollCtl(epoll, operation, fd, ev) < 0 ? Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>The events and data of the <paramref name="index"/>th entry epoll_wait filled in.</summary>
    public static (uint Events, ulong Data) EpollEventAt(byte* events, int index)
    {
        byte* ev = events + (index * EpollEventSize);
        return (Unsafe.ReadUnaligned<uint>(ev), Unsafe.ReadUnaligned<ulong>(ev + EpollDataOffset));
    }

    /// <summary>A receive that never blocks: the bytes read, 0 at the end of the stream, or -errno.</summary>
    public static nint Receive(int fd, byte* buffer, int length)
    {
        nint read = Recv(fd, buffer, (nuint)length, MsgDontWait);
        return read >= 0 ? read : -Marshal.GetLastPInvokeError();
    }

    /// <summary>A send that never blocks nor raises SIGPIPE: the bytes sent, or -errno.</summary>
    public static nint Send(int fd, byte* buffer, int length)
    {
        nint sent = SendCall(fd, buffer, (nuint)length, MsgDontWait | MsgNoSignal);
        return sent >= 0 ? sent : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Starts a connect on a non-blocking socket: 0 when connected at once, else the errno (EINPROGRESS while under way).</summary>
    public static int Connect(int fd, ReadOnlySpan<byte> address)
    {
        fixed (byte* sockaddr = address)
        {
            return ConnectCall(fd, sockaddr, address.Length) < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
    }

    /// <summary>The pending error of a socket (SO_ERROR): how its connect ended, 0 for success.</summary>
    public static int PendingError(int fd)
    {
        int error = 0;
        int length = sizeof(int);
        return GetSockOpt(fd, SolSocket, SoError, &error, &length) < 0 ? Marshal.GetLastPInvokeError() : error;
    }

    /// <summary>Wakes a thread waiting for <paramref name="eventFd"/> (adds 1 to its counter).</summary>
    public static void Signal(int eventFd)
    {
        ulong one = 1;
        _ = Write(eventFd, &one, sizeof(ulong));
    }

    /// <summary>Resets the counter of <paramref name="eventFd"/> after its wake-up.</summary>
    public static void Drain(int eventFd)
    {
        ulong count;
        _ = Read(eventFd, &count, sizeof(ulong));
    }

    /// <summary>The socket error .NET reports for a Linux errno of connect, send or receive.</summary>
    public static SocketException Error(int errno) => new((int)(errno switch
    {
        1 or 13 => SocketError.AccessDenied,
        32 or 104 => SocketError.ConnectionReset,
        99 => SocketError.AddressNotAvailable,
        100 => SocketError.NetworkDown,
        101 => SocketError.NetworkUnreachable,
        110 => SocketError.TimedOut,
        111 => SocketError.ConnectionRefused,
        113 => SocketError.HostUnreachable,
        _ => SocketError.SocketError,
    }));

    private static int Check(int result, string what) =>
        result >= 0 ? result : throw new IOException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int operation, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epoll, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFdCreate(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, void* buffer, nuint length);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, void* buffer, nuint length);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SendCall(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int ConnectCall(int fd, byte* address, int length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOpt(int fd, int level, int name, int* value, int* length);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);
}
