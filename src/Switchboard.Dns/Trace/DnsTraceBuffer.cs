using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Switchboard.Dns.Wire;
using Switchboard.Kube.Trace;

namespace Switchboard.Dns.Trace;

/// <summary>
/// The last <see cref="Capacity"/> answered queries, for <c>switchboard trace</c>: <c>--last N</c> reads what is here,
/// <c>-f</c> tails it. The server always records (the recent past must be there when someone asks), so recording
/// is made cheap instead of conditional: one interlocked add per UDP batch, a copy of the response's first
/// <see cref="StoredResponseBytes"/> bytes and the client's socket address into preallocated memory, no allocation,
/// no lock. Nothing is decoded until a reader asks. Readers never hold writers back: a reader slower than the
/// queries finds its next events overwritten, skips them and counts them as lost (<see cref="Lost"/>).
/// </summary>
public sealed class DnsTraceBuffer : ITraceRing
{
    /// <summary>The default number of events kept (≈2.3 MB).</summary>
    public const int DefaultCapacity = 4096;

    /// <summary>How much of a response is kept: the question and, for cluster answers, every record in practice.</summary>
    internal const int StoredResponseBytes = 512;

    /// <summary>Room for a sockaddr_in6.</summary>
    private const int AddressBytes = 28;

    private const int SlotBytes = AddressBytes + StoredResponseBytes;

    private readonly Slot[] _slots;
    private readonly byte[] _bytes;
    private readonly long _mask;
    private readonly long _baseTimestamp = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _baseTime;
    private readonly string _skyDnsPrefix;
    private long _next;
    private long _lost;

    /// <param name="capacity">Events kept; rounded up to a power of two.</param>
    /// <param name="time">The clock events are stamped from.</param>
    /// <param name="skyDnsPrefix">The SkyDNS key prefix, to name the key a SkyDNS answer came from.</param>
    public DnsTraceBuffer(int capacity, TimeProvider time, string skyDnsPrefix = "/skydns")
    {
        _skyDnsPrefix = skyDnsPrefix;
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentNullException.ThrowIfNull(time);
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        _slots = new Slot[size];
        _bytes = GC.AllocateUninitializedArray<byte>(size * SlotBytes);
        _mask = size - 1;
        _baseTime = time.GetUtcNow();
        for (int i = 0; i < size; i++)
        {
            _slots[i].Sequence = long.MinValue;
        }
    }

    public int Capacity => _slots.Length;

    /// <summary>The sequence number the next event gets: events so far.</summary>
    public long Head => Volatile.Read(ref _next);

    /// <summary>Events readers lost because the buffer moved on before they read them (summed over readers).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Records one answer. <paramref name="client"/>: the client's native socket address (may be empty).</summary>
    internal void Record(ReadOnlySpan<byte> response, long started, long elapsed, bool overTcp, ReadOnlySpan<byte> client, DnsAnswerSource source, IPEndPoint? upstream) =>
        Record(Reserve(1), response, started, elapsed, overTcp, client, source, upstream);

    /// <summary>
    /// Takes the next <paramref name="count"/> sequence numbers for one writer (a UDP batch's answers), so that threads
    /// share one contended increment per batch instead of one per query; each must then be written with
    /// <see cref="Record(long, ReadOnlySpan{byte}, long, long, bool, ReadOnlySpan{byte}, DnsAnswerSource, IPEndPoint?)"/> at once,
    /// as readers wait at the first one not yet written.
    /// </summary>
    internal long Reserve(int count) => Interlocked.Add(ref _next, count) - count;

    /// <summary>Records one answer under a <paramref name="sequence"/> number taken with <see cref="Reserve"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Record(long sequence, ReadOnlySpan<byte> response, long started, long elapsed, bool overTcp, ReadOnlySpan<byte> client, DnsAnswerSource source, IPEndPoint? upstream)
    {
        int index = (int)(sequence & _mask);
        ref Slot slot = ref _slots[index];

        // Marked as being written (a full fence, so no store below moves above it): readers skip or wait.
        Interlocked.Exchange(ref slot.Sequence, -1);
        slot.Started = started;
        slot.Elapsed = elapsed;
        slot.Upstream = upstream;
        slot.Source = source;
        slot.OverTcp = overTcp;
        slot.ResponseLength = (ushort)response.Length;
        slot.AddressLength = (byte)Math.Min(client.Length, AddressBytes);
        Span<byte> bytes = _bytes.AsSpan(index * SlotBytes, SlotBytes);
        client[..slot.AddressLength].CopyTo(bytes);
        response[..Math.Min(response.Length, StoredResponseBytes)].CopyTo(bytes[AddressBytes..]);
        Volatile.Write(ref slot.Sequence, sequence);
    }

    /// <summary>
    /// The events among up to <paramref name="max"/> from sequence <paramref name="from"/> on, oldest first, that
    /// <paramref name="about"/> selects (all when null): a slot's question name is matched where it lies, and only a
    /// selected event is copied out and decoded. <paramref name="next"/>: where to read next time. Events overwritten
    /// before this read are skipped and returned in <paramref name="lost"/> (and added to <see cref="Lost"/>); an event
    /// still being written ends the read, to be read next time.
    /// </summary>
    public IReadOnlyList<DnsTraceEvent> Read(long from, int max, TraceSelection? about, out long next, out long lost)
    {
        var events = new List<DnsTraceEvent>();
        long head = Head;
        lost = 0;
        if (head - from > _slots.Length)
        {
            lost = head - _slots.Length - from;
            from = head - _slots.Length;
        }

        byte[]? copy = null;
        long end = Math.Min(head, from + max);
        for (next = from; next < end; next++)
        {
            int index = (int)(next & _mask);
            ref Slot slot = ref _slots[index];
            long sequence = Volatile.Read(ref slot.Sequence);
            if (sequence < next)
            {
                break; // reserved or being written: next time
            }

            bool selected = about is null || about.IsAboutName(QuestionName(index, slot.ResponseLength));
            Slot taken = slot;
            if (selected)
            {
                copy ??= new byte[SlotBytes];
                _bytes.AsSpan(index * SlotBytes, SlotBytes).CopyTo(copy);
            }

            Interlocked.MemoryBarrier();
            if (sequence != next || Volatile.Read(ref slot.Sequence) != next)
            {
                lost++; // overwritten while looked at
                continue;
            }

            if (selected)
            {
                events.Add(Decode(next, taken, copy!));
            }
        }

        if (lost > 0)
        {
            Interlocked.Add(ref _lost, lost);
        }

        return events;
    }

    public int WriteJson(long from, int max, TraceSelection? about, IBufferWriter<byte> output, out long next, out long lost)
        => TraceJson.WriteLines(Read(from, max, about, out next, out lost), output);

    /// <summary>The kept question name of the slot at <paramref name="index"/>, where it lies (a writer may be changing it: check the sequence after).</summary>
    private ReadOnlySpan<byte> QuestionName(int index, int responseLength)
    {
        int stored = Math.Min(responseLength, StoredResponseBytes);
        return stored > DnsHeader.Size ? _bytes.AsSpan((index * SlotBytes) + AddressBytes + DnsHeader.Size, stored - DnsHeader.Size) : default;
    }

    private DnsTraceEvent Decode(long sequence, in Slot slot, byte[] bytes)
    {
        IPEndPoint? client = null;
        if (slot.AddressLength >= 8)
        {
            var family = (AddressFamily)BitConverter.ToUInt16(bytes, 0);
            var address = new SocketAddress(family, slot.AddressLength);
            bytes.AsSpan(0, slot.AddressLength).CopyTo(address.Buffer.Span);
            client = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address);
        }

        DateTimeOffset time = _baseTime + Stopwatch.GetElapsedTime(_baseTimestamp, slot.Started);
        int stored = Math.Min((int)slot.ResponseLength, StoredResponseBytes);
        return DnsTraceEvent.FromResponse(
            sequence, time, client, slot.OverTcp, slot.Source, _skyDnsPrefix, slot.Upstream, bytes.AsSpan(AddressBytes, stored), Stopwatch.GetElapsedTime(0, slot.Elapsed));
    }

    /// <summary>One event's fixed fields; its bytes are in the shared array at the slot's index.</summary>
    private struct Slot
    {
        /// <summary>The event's sequence number; -1 while being written, <see cref="long.MinValue"/> never written.</summary>
        public long Sequence;
        public long Started;
        public long Elapsed;
        public IPEndPoint? Upstream;
        public ushort ResponseLength;
        public byte AddressLength;
        public DnsAnswerSource Source;
        public bool OverTcp;
    }
}
