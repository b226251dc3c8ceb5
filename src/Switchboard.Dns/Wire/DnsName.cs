using System.Runtime.CompilerServices;
using System.Text;

namespace Switchboard.Dns.Wire;

/// <summary>
/// Domain names in wire form (length-prefixed labels ending with the root byte 0), read from messages
/// with bounded decompression and compared case-insensitively without allocating.
/// </summary>
internal static class DnsName
{
    /// <summary>Largest name in octets, including length bytes and the root (RFC 1035 2.3.4).</summary>
    public const int MaxLength = 255;

    public const int MaxLabelLength = 63;

    /// <summary>The root name, a single zero byte.</summary>
    public static ReadOnlySpan<byte> Root => [0];

    /// <summary>
    /// Reads the (possibly compressed) name starting at <paramref name="offset"/> into <paramref name="destination"/>
    /// as an uncompressed wire name. Every pointer must point before the run of labels it was reached from,
    /// so the walk always terminates; label types 0x40 and 0x80 and over-long names are rejected.
    /// </summary>
    /// <remarks><c>end</c>: The offset just past the name in the message (after its first pointer, if any).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryRead(ReadOnlySpan<byte> message, int offset, Span<byte> destination, out int length, out int end)
    {
        length = 0;
        end = -1;
        int position = offset;
        int runStart = offset;
        while (true)
        {
            if ((uint)position >= (uint)message.Length)
            {
                return false;
            }

            byte b = message[position];
            switch (b & 0xC0)
            {
                case 0x00:
                    // A label needs room for itself and the root byte that must still follow it.
                    int needed = b == 0 ? 1 : 2 + b;
                    if (length + needed > MaxLength || length + needed > destination.Length || position + 1 + b > message.Length)
                    {
                        return false;
                    }

                    destination[length] = b;
                    if (b == 0)
                    {
                        length++;
                        if (end < 0)
                        {
                            end = position + 1;
                        }

                        return true;
                    }

                    message.Slice(position + 1, b).CopyTo(destination[(length + 1)..]);
                    length += 1 + b;
                    position += 1 + b;
                    break;
                case 0xC0:
                    if (position + 1 >= message.Length)
                    {
                        return false;
                    }

                    int target = ((b & 0x3F) << 8) | message[position + 1];
                    if (target >= runStart)
                    {
                        return false;
                    }

                    if (end < 0)
                    {
                        end = position + 2;
                    }

                    runStart = target;
                    position = target;
                    break;
                default:
                    return false;
            }
        }
    }

    /// <summary>Skips a name in a message without copying it, with the same checks as <see cref="TryRead"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TrySkip(ReadOnlySpan<byte> message, int offset, out int end)
    {
        Span<byte> scratch = stackalloc byte[MaxLength];
        return TryRead(message, offset, scratch, out _, out end);
    }

    /// <summary>ASCII case-insensitive equality of two wire names (length bytes are below 'A', so folding them is harmless).</summary>
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }

        for (int i = 0; i < left.Length; i++)
        {
            if (ToLower(left[i]) != ToLower(right[i]))
            {
                return false;
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToLowerAscii(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = ToLower(source[i]);
        }
    }

    /// <summary>Offset in <paramref name="name"/> where <paramref name="suffix"/> starts on a label boundary, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int FindSuffix(ReadOnlySpan<byte> name, ReadOnlySpan<byte> suffix)
    {
        int offset = 0;
        while (offset < name.Length)
        {
            int remaining = name.Length - offset;
            if (remaining == suffix.Length)
            {
                return EqualsIgnoreCase(name[offset..], suffix) ? offset : -1;
            }

            if (remaining < suffix.Length || name[offset] == 0)
            {
                return -1;
            }

            offset += 1 + name[offset];
        }

        return -1;
    }

    /// <summary>Converts presentation text (<c>a.b.c</c>, trailing dot optional, no escapes) to a wire name.</summary>
    public static bool TryParse(string text, out byte[] wire)
    {
        wire = [];
        string trimmed = text.EndsWith('.') ? text[..^1] : text;
        if (trimmed.Length == 0)
        {
            wire = [0];
            return true;
        }

        var buffer = new List<byte>(trimmed.Length + 2);
        foreach (string label in trimmed.Split('.'))
        {
            int byteCount = Encoding.ASCII.GetByteCount(label);
            if (byteCount is 0 or > MaxLabelLength || !Ascii.IsValid(label))
            {
                return false;
            }

            buffer.Add((byte)byteCount);
            buffer.AddRange(Encoding.ASCII.GetBytes(label));
        }

        buffer.Add(0);
        if (buffer.Count > MaxLength)
        {
            return false;
        }

        wire = [.. buffer];
        return true;
    }

    public static byte[] Parse(string text) =>
        TryParse(text, out byte[] wire) ? wire : throw new ArgumentException($"'{text}' is not a valid domain name", nameof(text));

    /// <summary>Presentation form with a trailing dot; bytes outside printable ASCII and dots inside labels are escaped.</summary>
    public static string ToText(ReadOnlySpan<byte> name)
    {
        if (name.Length == 0 || name[0] == 0)
        {
            return ".";
        }

        var text = new StringBuilder(name.Length + 1);
        int offset = 0;
        while (offset < name.Length && name[offset] != 0)
        {
            foreach (byte b in name.Slice(offset + 1, name[offset]))
            {
                if (b is (byte)'.' or (byte)'\\')
                {
                    text.Append('\\').Append((char)b);
                }
                else if (b is < 0x21 or > 0x7E)
                {
                    text.Append('\\').Append(b.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    text.Append((char)b);
                }
            }

            text.Append('.');
            offset += 1 + name[offset];
        }

        return text.ToString();
    }

    private static byte ToLower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
}
