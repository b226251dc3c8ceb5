using System.Buffers.Binary;

namespace Switchboard.Node.Server.Spdy;

/// <summary>
/// Writes SPDY/3 frames to a byte stream shared by every stream of the connection: one frame per write, under a lock,
/// so frames never interleave and each is one WebSocket message or one TLS write. DATA frames are written from a
/// buffer the caller filled after <see cref="DataHeaderLength"/> reserved bytes, so a payload is never copied.
/// </summary>
internal sealed class SpdyFrameWriter(Stream output) : IDisposable
{
    /// <summary>The bytes a DATA frame's header takes before its payload.</summary>
    public const int DataHeaderLength = 8;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly SpdyHeaderCompressor _compressor = new();

    public Task WriteSynStreamAsync(uint streamId, IReadOnlyDictionary<string, string> headers, bool fin, CancellationToken cancellationToken) =>
        WriteWithHeadersAsync(SpdyFrameType.SynStream, fin ? SpdyFrame.FlagFin : (byte)0, streamId, 10, headers, cancellationToken);

    public Task WriteSynReplyAsync(uint streamId, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken) =>
        WriteWithHeadersAsync(SpdyFrameType.SynReply, 0, streamId, 4, headers, cancellationToken);

    public Task WriteRstStreamAsync(uint streamId, SpdyRstStatus status, CancellationToken cancellationToken) =>
        WriteControlAsync(SpdyFrameType.RstStream, streamId, (uint)status, cancellationToken);

    public Task WritePingAsync(uint id, CancellationToken cancellationToken)
    {
        byte[] frame = new byte[12];
        ControlHeader(frame, SpdyFrameType.Ping, 0, 4);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), id);
        return WriteAsync(frame, cancellationToken);
    }

    public Task WriteGoAwayAsync(uint lastGoodStreamId, uint status, CancellationToken cancellationToken) =>
        WriteControlAsync(SpdyFrameType.GoAway, lastGoodStreamId, status, cancellationToken);

    /// <summary>A DATA frame of <paramref name="payload"/> (copied after a header).</summary>
    public Task WriteDataAsync(uint streamId, ReadOnlySpan<byte> payload, bool fin, CancellationToken cancellationToken)
    {
        byte[] frame = new byte[DataHeaderLength + payload.Length];
        payload.CopyTo(frame.AsSpan(DataHeaderLength));
        return WriteDataFrameAsync(streamId, frame, payload.Length, fin, cancellationToken);
    }

    /// <summary>A DATA frame whose payload is already in <paramref name="frame"/> after its first <see cref="DataHeaderLength"/> bytes.</summary>
    public Task WriteDataFrameAsync(uint streamId, byte[] frame, int payloadLength, bool fin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        BinaryPrimitives.WriteUInt32BigEndian(frame, streamId & 0x7FFFFFFF);
        frame[4] = fin ? SpdyFrame.FlagFin : (byte)0;
        WriteLength(frame, payloadLength);
        return WriteAsync(frame.AsMemory(0, DataHeaderLength + payloadLength), cancellationToken);
    }

    public void Dispose() => _lock.Dispose();

    private Task WriteControlAsync(SpdyFrameType type, uint streamId, uint value, CancellationToken cancellationToken)
    {
        byte[] frame = new byte[16];
        ControlHeader(frame, type, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), streamId & 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(12), value);
        return WriteAsync(frame, cancellationToken);
    }

    /// <summary>SYN_STREAM (stream id, associated id 0, priority 0, slot 0) or SYN_REPLY (stream id) with a compressed header block.</summary>
    private async Task WriteWithHeadersAsync(SpdyFrameType type, byte flags, uint streamId, int fixedLength, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        byte[] block = SpdyHeaderBlock.Serialize(headers);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            // Compressed under the lock: the peer inflates blocks in the order frames arrive.
            byte[] compressed = _compressor.Compress(block);
            byte[] frame = new byte[8 + fixedLength + compressed.Length];
            ControlHeader(frame, type, flags, fixedLength + compressed.Length);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), streamId & 0x7FFFFFFF);
            compressed.CopyTo(frame.AsSpan(8 + fixedLength));
            await output.WriteAsync(frame, cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            await output.WriteAsync(frame, cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    private static void ControlHeader(byte[] frame, SpdyFrameType type, byte flags, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame, 0x8003);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)type);
        frame[4] = flags;
        WriteLength(frame, length);
    }

    private static void WriteLength(byte[] frame, int length)
    {
        if (length > 0xFFFFFF)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "a SPDY frame carries at most 2^24-1 bytes");
        }

        frame[5] = (byte)(length >> 16);
        frame[6] = (byte)(length >> 8);
        frame[7] = (byte)length;
    }
}
