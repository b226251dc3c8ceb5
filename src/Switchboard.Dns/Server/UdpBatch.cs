using System.Runtime.InteropServices;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Server;

/// <summary>
/// Linux recvmmsg/sendmmsg over native buffers: up to <see cref="Size"/> datagrams per system call each way,
/// so under load the per-query cost is the handler, not two syscalls. One instance per UDP thread.
/// </summary>
internal sealed unsafe partial class UdpBatch : IDisposable
{
    public const int Size = 32;

    public const int Eintr = 4;
    public const int Eagain = 11;

    /// <summary>recvmmsg: block for the first datagram only, then take what is already queued.</summary>
    private const int MsgWaitForOne = 0x10000;
    private const int AddressBytes = 128;
    private const int QueryBytes = DnsPayloadLimit.MaxMessageSize;

    private readonly int _responseBytes;
    private readonly byte* _queries;
    private readonly byte* _responses;
    private readonly byte* _addresses;
    private readonly MMsgHdr* _rx;
    private readonly IoVec* _rxIov;
    private readonly MMsgHdr* _tx;
    private readonly IoVec* _txIov;
    private int _queued;

    public UdpBatch(int responseBytes)
    {
        _responseBytes = responseBytes;
        _queries = (byte*)NativeMemory.Alloc((nuint)(Size * QueryBytes));
        _responses = (byte*)NativeMemory.Alloc((nuint)(Size * responseBytes));
        _addresses = (byte*)NativeMemory.AllocZeroed((nuint)(Size * AddressBytes));
        _rx = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)(Size * sizeof(MMsgHdr)));
        _rxIov = (IoVec*)NativeMemory.AllocZeroed((nuint)(Size * sizeof(IoVec)));
        _tx = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)(Size * sizeof(MMsgHdr)));
        _txIov = (IoVec*)NativeMemory.AllocZeroed((nuint)(Size * sizeof(IoVec)));
        for (int i = 0; i < Size; i++)
        {
            _rxIov[i] = new IoVec { Base = _queries + ((nint)i * QueryBytes), Length = QueryBytes };
            _rx[i].Header.Iov = &_rxIov[i];
            _rx[i].Header.IovLength = 1;
        }
    }

    /// <summary>Receives up to <see cref="Size"/> datagrams; returns how many, or -1 with <paramref name="error"/> set.</summary>
    public int Receive(int fd, out int error)
    {
        for (int i = 0; i < Size; i++)
        {
            _rx[i].Header.Name = _addresses + ((nint)i * AddressBytes);
            _rx[i].Header.NameLength = AddressBytes;
            _rx[i].Header.Flags = 0;
        }

        int count = RecvMMsg(fd, _rx, Size, MsgWaitForOne, null);
        error = count < 0 ? Marshal.GetLastSystemError() : 0;
        return count;
    }

    public ReadOnlySpan<byte> Query(int i) => new(_queries + ((nint)i * QueryBytes), (int)_rx[i].Length);

    public Span<byte> Response(int i) => new(_responses + ((nint)i * _responseBytes), _responseBytes);

    /// <summary>The sender of datagram <paramref name="i"/> as a native sockaddr.</summary>
    public ReadOnlySpan<byte> Address(int i) => new(_addresses + ((nint)i * AddressBytes), (int)_rx[i].Header.NameLength);

    /// <summary>Replies queued since the last <see cref="Flush"/>.</summary>
    public int Queued => _queued;

    /// <summary>Queued reply <paramref name="k"/>'s message.</summary>
    public ReadOnlySpan<byte> Sent(int k) => new(_txIov[k].Base, (int)_txIov[k].Length);

    /// <summary>Queued reply <paramref name="k"/>'s destination as a native sockaddr.</summary>
    public ReadOnlySpan<byte> SentTo(int k) => new(_tx[k].Header.Name, (int)_tx[k].Header.NameLength);

    /// <summary>Queues the first <paramref name="length"/> bytes of response <paramref name="i"/> back to its sender.</summary>
    public void Reply(int i, int length)
    {
        int k = _queued++;
        _txIov[k] = new IoVec { Base = _responses + ((nint)i * _responseBytes), Length = (nuint)length };
        _tx[k].Header = new MsgHdr { Name = _rx[i].Header.Name, NameLength = _rx[i].Header.NameLength, Iov = &_txIov[k], IovLength = 1 };
    }

    /// <summary>Sends every queued reply; returns 0, or the errno that stopped it (the rest are dropped, as a lost datagram).</summary>
    public int Flush(int fd)
    {
        int sent = 0;
        int error = 0;
        while (sent < _queued)
        {
            int count = SendMMsg(fd, _tx + sent, (uint)(_queued - sent), 0);
            if (count < 0)
            {
                error = Marshal.GetLastSystemError();
                if (error == Eintr)
                {
                    continue;
                }

                // The datagram at the front failed (e.g. an unreachable client); skip it and send the rest.
                sent++;
                continue;
            }

            sent += count;
        }

        _queued = 0;
        return error;
    }

    public void Dispose()
    {
        NativeMemory.Free(_queries);
        NativeMemory.Free(_responses);
        NativeMemory.Free(_addresses);
        NativeMemory.Free(_rx);
        NativeMemory.Free(_rxIov);
        NativeMemory.Free(_tx);
        NativeMemory.Free(_txIov);
    }

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static partial int RecvMMsg(int fd, MMsgHdr* messages, uint length, int flags, void* timeout);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    private static partial int SendMMsg(int fd, MMsgHdr* messages, uint length, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }
}
