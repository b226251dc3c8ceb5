using System.Runtime.InteropServices;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Server;

/// <summary>
/// Linux recvmmsg/sendmmsg over native buffers: up to <see cref="Size"/> datagrams per system call each way,
/// so under load the per-query cost is the handler, not two syscalls; replies to one client are sent segmented
/// (see <see cref="Flush"/>). One instance per UDP thread.
/// </summary>
internal sealed unsafe partial class UdpBatch : IDisposable
{
    public const int Size = 32;

    public const int Eintr = 4;
    public const int Eagain = 11;
    private const int Eio = 5;
    private const int Enoprotoopt = 92;
    private const int Eopnotsupp = 95;

    /// <summary>UDP_SEGMENT at SOL_UDP: the segment size of a UDP GSO send, a 16-bit control message.</summary>
    private const int SolUdp = 17;
    private const int UdpSegment = 103;

    /// <summary>CMSG_SPACE(sizeof(ushort)): the control message header plus its value, padded to 8 bytes.</summary>
    private const int SegmentControlBytes = 24;

    /// <summary>What one UDP send may carry in all (its length must fit the 16-bit UDP length field with the header).</summary>
    private const int MaxSendBytes = 65507;

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
    private readonly IoVec* _replies;
    private readonly int* _replyTo;
    private readonly byte* _control;
    private bool _segmentation = true;
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
        _replies = (IoVec*)NativeMemory.AllocZeroed((nuint)(Size * sizeof(IoVec)));
        _replyTo = (int*)NativeMemory.AllocZeroed((nuint)(Size * sizeof(int)));
        _control = (byte*)NativeMemory.AllocZeroed((nuint)(Size * SegmentControlBytes));
        for (int i = 0; i < Size; i++)
        {
            var control = (CMsgHdr*)(_control + ((nint)i * SegmentControlBytes));
            *control = new CMsgHdr { Length = (nuint)(sizeof(CMsgHdr) + sizeof(ushort)), Level = SolUdp, Type = UdpSegment };
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
    public ReadOnlySpan<byte> Sent(int k) => new(_replies[k].Base, (int)_replies[k].Length);

    /// <summary>Queued reply <paramref name="k"/>'s destination as a native sockaddr.</summary>
    public ReadOnlySpan<byte> SentTo(int k) => Address(_replyTo[k]);

    /// <summary>Queues the first <paramref name="length"/> bytes of response <paramref name="i"/> back to its sender.</summary>
    public void Reply(int i, int length)
    {
        int k = _queued++;
        _replies[k] = new IoVec { Base = _responses + ((nint)i * _responseBytes), Length = (nuint)length };
        _replyTo[k] = i;
    }

    /// <summary>
    /// Sends every queued reply; returns 0, or the errno that stopped one (that one is dropped, as a lost datagram).
    /// Replies of one length to one client go as one UDP GSO message (UDP_SEGMENT): the kernel routes, builds and
    /// hands down one packet and cuts it into the datagrams at the end, instead of walking the whole send path per
    /// reply, which was most of the server's CPU per query.
    /// </summary>
    public int Flush(int fd)
    {
        int messages = GroupReplies();
        int sent = 0;
        int error = 0;
        while (sent < messages)
        {
            int count = SendMMsg(fd, _tx + sent, (uint)(messages - sent), 0);
            if (count >= 0)
            {
                sent += count;
                continue;
            }

            error = Marshal.GetLastSystemError();
            if (error == Eintr)
            {
                continue;
            }

            // The message at the front failed (e.g. an unreachable client). Segmented, its datagrams get one more
            // chance one by one: a kernel or device without UDP GSO, or a reply too large to segment, refuses it whole.
            if (_tx[sent].Header.Control != null)
            {
                _segmentation &= error is not (Eio or Enoprotoopt or Eopnotsupp);
                error = SendEach(fd, ref _tx[sent].Header);
            }

            sent++;
        }

        _queued = 0;
        return error;
    }

    /// <summary>
    /// Lays the queued replies out as send messages, those of equal length to the same address together (at most
    /// <see cref="Size"/> segments, below the kernel's 64, and <see cref="MaxSendBytes"/>); returns how many messages.
    /// </summary>
    private int GroupReplies()
    {
        Span<bool> grouped = stackalloc bool[Size];
        int messages = 0;
        int iov = 0;
        for (int k = 0; k < _queued; k++)
        {
            if (grouped[k])
            {
                continue;
            }

            IoVec* first = _txIov + iov;
            _txIov[iov++] = _replies[k];
            ReadOnlySpan<byte> to = SentTo(k);
            nuint length = _replies[k].Length;
            nuint bytes = length;
            for (int j = k + 1; _segmentation && j < _queued && bytes + length <= MaxSendBytes; j++)
            {
                if (!grouped[j] && _replies[j].Length == length && SentTo(j).SequenceEqual(to))
                {
                    bytes += length;
                    grouped[j] = true;
                    _txIov[iov++] = _replies[j];
                }
            }

            nuint segments = (nuint)(_txIov + iov - first);
            MsgHdr* header = &_tx[messages].Header;
            *header = new MsgHdr { Name = _rx[_replyTo[k]].Header.Name, NameLength = _rx[_replyTo[k]].Header.NameLength, Iov = first, IovLength = segments };
            if (segments > 1)
            {
                byte* control = _control + ((nint)messages * SegmentControlBytes);
                *(ushort*)(control + sizeof(CMsgHdr)) = (ushort)length;
                header->Control = control;
                header->ControlLength = SegmentControlBytes;
            }

            messages++;
        }

        return messages;
    }

    /// <summary>Sends a segmented message's datagrams one message each; returns 0 or the last errno.</summary>
    private static int SendEach(int fd, ref MsgHdr segmented)
    {
        int error = 0;
        for (nuint s = 0; s < segmented.IovLength; s++)
        {
            var single = new MMsgHdr { Header = segmented with { Iov = segmented.Iov + s, IovLength = 1, Control = null, ControlLength = 0 } };
            if (SendMMsg(fd, &single, 1, 0) < 0)
            {
                error = Marshal.GetLastSystemError();
            }
        }

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
        NativeMemory.Free(_replies);
        NativeMemory.Free(_replyTo);
        NativeMemory.Free(_control);
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
    private struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }
}
