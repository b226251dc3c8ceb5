using System.Buffers.Binary;
using System.Text;

namespace Switchboard.Node.Server.Spdy;

/// <summary>
/// SPDY/3 name/value header blocks (§2.6.10): a u32 pair count, then per pair a u32-length name and a u32-length value,
/// all big-endian. Names are lowercase on the wire (spdystream refuses a frame with an uppercase name), so they are
/// kept as read and matched ordinally. Compression is separate: <see cref="ZlibInflater"/> reads, <see cref="SpdyHeaderCompressor"/>
/// wraps the plain block in zlib stored blocks.
/// </summary>
internal static class SpdyHeaderBlock
{
    /// <summary>
    /// The zlib dictionary both ends of a SPDY/3 connection prime their header compression with (SPDY draft 3
    /// §2.6.10.1): 1423 bytes of common header names and values, Adler-32 E3C6A7C2, the id kubectl's first header block
    /// names in its zlib header (<c>78 F9 E3 C6 A7 C2</c>).
    /// </summary>
    public static readonly byte[] Dictionary = Convert.FromBase64String(
        "AAAAB29wdGlvbnMAAAAEaGVhZAAAAARwb3N0AAAAA3B1dAAAAAZkZWxldGUAAAAFdHJhY2UAAAAGYWNjZXB0AAAADmFjY2VwdC1jaGFyc2V0AA" +
        "AAD2FjY2VwdC1lbmNvZGluZwAAAA9hY2NlcHQtbGFuZ3VhZ2UAAAANYWNjZXB0LXJhbmdlcwAAAANhZ2UAAAAFYWxsb3cAAAANYXV0aG9yaXph" +
        "dGlvbgAAAA1jYWNoZS1jb250cm9sAAAACmNvbm5lY3Rpb24AAAAMY29udGVudC1iYXNlAAAAEGNvbnRlbnQtZW5jb2RpbmcAAAAQY29udGVudC" +
        "1sYW5ndWFnZQAAAA5jb250ZW50LWxlbmd0aAAAABBjb250ZW50LWxvY2F0aW9uAAAAC2NvbnRlbnQtbWQ1AAAADWNvbnRlbnQtcmFuZ2UAAAAM" +
        "Y29udGVudC10eXBlAAAABGRhdGUAAAAEZXRhZwAAAAZleHBlY3QAAAAHZXhwaXJlcwAAAARmcm9tAAAABGhvc3QAAAAIaWYtbWF0Y2gAAAARaW" +
        "YtbW9kaWZpZWQtc2luY2UAAAANaWYtbm9uZS1tYXRjaAAAAAhpZi1yYW5nZQAAABNpZi11bm1vZGlmaWVkLXNpbmNlAAAADWxhc3QtbW9kaWZp" +
        "ZWQAAAAIbG9jYXRpb24AAAAMbWF4LWZvcndhcmRzAAAABnByYWdtYQAAABJwcm94eS1hdXRoZW50aWNhdGUAAAATcHJveHktYXV0aG9yaXphdG" +
        "lvbgAAAAVyYW5nZQAAAAdyZWZlcmVyAAAAC3JldHJ5LWFmdGVyAAAABnNlcnZlcgAAAAJ0ZQAAAAd0cmFpbGVyAAAAEXRyYW5zZmVyLWVuY29k" +
        "aW5nAAAAB3VwZ3JhZGUAAAAKdXNlci1hZ2VudAAAAAR2YXJ5AAAAA3ZpYQAAAAd3YXJuaW5nAAAAEHd3dy1hdXRoZW50aWNhdGUAAAAGbWV0aG" +
        "9kAAAAA2dldAAAAAZzdGF0dXMAAAAGMjAwIE9LAAAAB3ZlcnNpb24AAAAISFRUUC8xLjEAAAADdXJsAAAABnB1YmxpYwAAAApzZXQtY29va2ll" +
        "AAAACmtlZXAtYWxpdmUAAAAGb3JpZ2luMTAwMTAxMjAxMjAyMjA1MjA2MzAwMzAyMzAzMzA0MzA1MzA2MzA3NDAyNDA1NDA2NDA3NDA4NDA5ND" +
        "EwNDExNDEyNDEzNDE0NDE1NDE2NDE3NTAyNTA0NTA1MjAzIE5vbi1BdXRob3JpdGF0aXZlIEluZm9ybWF0aW9uMjA0IE5vIENvbnRlbnQzMDEg" +
        "TW92ZWQgUGVybWFuZW50bHk0MDAgQmFkIFJlcXVlc3Q0MDEgVW5hdXRob3JpemVkNDAzIEZvcmJpZGRlbjQwNCBOb3QgRm91bmQ1MDAgSW50ZX" +
        "JuYWwgU2VydmVyIEVycm9yNTAxIE5vdCBJbXBsZW1lbnRlZDUwMyBTZXJ2aWNlIFVuYXZhaWxhYmxlSmFuIEZlYiBNYXIgQXByIE1heSBKdW4g" +
        "SnVsIEF1ZyBTZXB0IE9jdCBOb3YgRGVjIDAwOjAwOjAwIE1vbiwgVHVlLCBXZWQsIFRodSwgRnJpLCBTYXQsIFN1biwgR01UY2h1bmtlZCx0ZX" +
        "h0L2h0bWwsaW1hZ2UvcG5nLGltYWdlL2pwZyxpbWFnZS9naWYsYXBwbGljYXRpb24veG1sLGFwcGxpY2F0aW9uL3hodG1sK3htbCx0ZXh0L3Bs" +
        "YWluLHRleHQvamF2YXNjcmlwdCxwdWJsaWNwcml2YXRlbWF4LWFnZT1nemlwLGRlZmxhdGUsc2RjaGNoYXJzZXQ9dXRmLThjaGFyc2V0PWlzby" +
        "04ODU5LTEsdXRmLSwqLGVucT0wLg==");

    /// <summary>The plain block of <paramref name="headers"/>.</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, string> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        int size = 4 + headers.Sum(h => 8 + Encoding.UTF8.GetByteCount(h.Key) + Encoding.UTF8.GetByteCount(h.Value));
        byte[] block = new byte[size];
        BinaryPrimitives.WriteUInt32BigEndian(block, (uint)headers.Count);
        int at = 4;
        foreach (var (name, value) in headers)
        {
            at = WriteString(block, at, name.ToLowerInvariant());
            at = WriteString(block, at, value);
        }

        return block;
    }

    /// <summary>Parses a plain (decompressed) block; a malformed one throws <see cref="InvalidDataException"/>.</summary>
    public static Dictionary<string, string> Parse(ReadOnlySpan<byte> block)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        uint count = ReadLength(ref block);
        for (uint i = 0; i < count; i++)
        {
            string name = ReadString(ref block);
            if (name.Length == 0 || name.Any(char.IsUpper))
            {
                throw new InvalidDataException($"header name \"{name}\" is empty or not lowercase");
            }

            headers[name] = ReadString(ref block);
        }

        if (!block.IsEmpty)
        {
            throw new InvalidDataException($"{block.Length} bytes follow the header block's last pair");
        }

        return headers;
    }

    private static int WriteString(byte[] block, int at, string text)
    {
        int length = Encoding.UTF8.GetBytes(text, block.AsSpan(at + 4));
        BinaryPrimitives.WriteUInt32BigEndian(block.AsSpan(at), (uint)length);
        return at + 4 + length;
    }

    private static uint ReadLength(ref ReadOnlySpan<byte> block)
    {
        if (block.Length < 4)
        {
            throw new InvalidDataException("the header block ends inside a length");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(block);
        block = block[4..];
        return length;
    }

    private static string ReadString(ref ReadOnlySpan<byte> block)
    {
        uint length = ReadLength(ref block);
        if (length > (uint)block.Length)
        {
            throw new InvalidDataException($"a header string of {length} bytes overruns the block");
        }

        string text = Encoding.UTF8.GetString(block[..(int)length]);
        block = block[(int)length..];
        return text;
    }
}
