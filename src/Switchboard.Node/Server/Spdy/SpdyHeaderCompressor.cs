using System.Buffers.Binary;

namespace Switchboard.Node.Server.Spdy;

/// <summary>
/// The sending side of a connection's header compression: one zlib stream for all its header blocks, each block
/// written as stored (uncompressed) deflate blocks, so no compressor state or dictionary is needed. Go's zlib reader
/// (kubectl) consults the SPDY dictionary only when the zlib header asks for one, and <c>78 01</c> does not.
/// Each block ends with an empty stored block, the marker zlib's sync flush writes: Go's inflater hands out a stored
/// block's bytes only when the next block begins, so without it kubectl would read past the frame and fail the
/// connection. Not thread-safe: the frame writer calls it under its lock, so blocks enter the stream in the order
/// they are sent.
/// </summary>
internal sealed class SpdyHeaderCompressor
{
    private const int MaxStoredBlock = ushort.MaxValue;

    /// <summary>An empty non-final stored block: BFINAL 0, BTYPE 00, LEN 0, NLEN FFFF.</summary>
    private static readonly byte[] SyncMarker = [0x00, 0x00, 0x00, 0xFF, 0xFF];
    private bool _started;

    /// <summary>The next piece of the zlib stream, carrying <paramref name="block"/> whole (a flush point follows it).</summary>
    public byte[] Compress(ReadOnlySpan<byte> block)
    {
        int pieces = Math.Max(1, (block.Length + MaxStoredBlock - 1) / MaxStoredBlock);
        int header = _started ? 0 : 2;
        byte[] output = new byte[header + (pieces * 5) + block.Length + SyncMarker.Length];
        if (!_started)
        {
            output[0] = 0x78;
            output[1] = 0x01;
            _started = true;
        }

        int at = header;
        do
        {
            int length = Math.Min(block.Length, MaxStoredBlock);
            // BFINAL 0, BTYPE 00 (stored), padded to the byte; then LEN and its complement, little-endian.
            output[at] = 0;
            BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(at + 1), (ushort)length);
            BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(at + 3), (ushort)~length);
            block[..length].CopyTo(output.AsSpan(at + 5));
            at += 5 + length;
            block = block[length..];
        }
        while (!block.IsEmpty);
        SyncMarker.CopyTo(output, at);
        return output;
    }
}
