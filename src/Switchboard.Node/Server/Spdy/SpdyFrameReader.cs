using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Switchboard.Node.Server.Spdy;

/// <summary>
/// Reads SPDY/3 frames from a byte stream in which frames start and end anywhere: kubectl's WebSocket tunnel splits
/// one frame across several messages, and a TLS read may hold many frames. Header blocks are inflated with the
/// connection's one <see cref="ZlibInflater"/>. Control frames this server has no use for beyond their existence
/// (SETTINGS, WINDOW_UPDATE, unknown types) are still returned, except unknown ones, which SPDY says to ignore.
/// </summary>
internal sealed class SpdyFrameReader : IDisposable
{
    private const int HeaderLength = 8;
    private readonly PipeReader _input;
    private readonly ZlibInflater _inflater = new();

    public SpdyFrameReader(Stream input)
    {
        _input = PipeReader.Create(input, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
    }

    /// <summary>The next frame, or null at the end of the stream between frames; a malformed frame throws <see cref="InvalidDataException"/>.</summary>
    public async ValueTask<SpdyFrame?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryTake(ref buffer, out var frame, out bool known))
            {
                _input.AdvanceTo(buffer.Start);
                if (known)
                {
                    return frame;
                }

                continue;
            }

            if (result.IsCompleted)
            {
                _input.AdvanceTo(buffer.End);
                return buffer.IsEmpty ? null : throw new InvalidDataException($"the stream ends inside a frame ({buffer.Length} bytes of it)");
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public void Dispose()
    {
        _input.Complete();
        _inflater.Dispose();
    }

    private bool TryTake(ref ReadOnlySequence<byte> buffer, out SpdyFrame? frame, out bool known)
    {
        frame = null;
        known = false;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        int length = (header[5] << 16) | (header[6] << 8) | header[7];
        if (buffer.Length < HeaderLength + length)
        {
            return false;
        }

        var body = buffer.Slice(HeaderLength, length);
        byte flags = header[4];
        if ((header[0] & 0x80) == 0)
        {
            uint streamId = BinaryPrimitives.ReadUInt32BigEndian(header) & 0x7FFFFFFF;
            byte[] data = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
            body.CopyTo(data);
            frame = new SpdyFrame(SpdyFrameType.Data, flags, streamId, Data: data, Length: length);
        }
        else
        {
            int version = BinaryPrimitives.ReadUInt16BigEndian(header) & 0x7FFF;
            if (version != 3)
            {
                throw new InvalidDataException($"a control frame of SPDY version {version}; this server speaks 3");
            }

            frame = Control((SpdyFrameType)BinaryPrimitives.ReadUInt16BigEndian(header[2..]), flags, body.ToArray());
        }

        buffer = buffer.Slice(HeaderLength + length);
        known = frame is not null;
        return true;
    }

    private SpdyFrame? Control(SpdyFrameType type, byte flags, byte[] body)
    {
        switch (type)
        {
            case SpdyFrameType.SynStream:
                Require(type, body, 10);
                return new SpdyFrame(type, flags, StreamId(body), Headers: Headers(body.AsSpan(10)));
            case SpdyFrameType.SynReply or SpdyFrameType.Headers:
                Require(type, body, 4);
                return new SpdyFrame(type, flags, StreamId(body), Headers: Headers(body.AsSpan(4)));
            case SpdyFrameType.RstStream or SpdyFrameType.WindowUpdate:
                Require(type, body, 8);
                return new SpdyFrame(type, flags, StreamId(body), BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4)));
            case SpdyFrameType.Ping:
                Require(type, body, 4);
                return new SpdyFrame(type, flags, 0, BinaryPrimitives.ReadUInt32BigEndian(body));
            case SpdyFrameType.GoAway:
                Require(type, body, 8);
                return new SpdyFrame(type, flags, StreamId(body), BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4)));
            case SpdyFrameType.Settings:
                return new SpdyFrame(type, flags, 0);
            default:
                return null;
        }
    }

    private Dictionary<string, string> Headers(ReadOnlySpan<byte> compressed) => SpdyHeaderBlock.Parse(_inflater.Inflate(compressed));

    private static uint StreamId(byte[] body) => BinaryPrimitives.ReadUInt32BigEndian(body) & 0x7FFFFFFF;

    private static void Require(SpdyFrameType type, byte[] body, int length)
    {
        if (body.Length < length)
        {
            throw new InvalidDataException($"a {type} frame of {body.Length} bytes; it needs at least {length}");
        }
    }
}
