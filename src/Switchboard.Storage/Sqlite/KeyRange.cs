using System.Text;

namespace Switchboard.Storage.Sqlite;

/// <summary>
/// Keys are stored as UTF-8 blobs so that SQLite's memcmp order is etcd's byte order; a prefix becomes the
/// half-open blob range [Low, High).
/// </summary>
internal readonly record struct KeyRange(byte[] Low, byte[] High)
{
    // 0xFF never occurs in UTF-8, so this blob sorts after every key.
    private static readonly byte[] AfterAllKeys = [0xFF];

    /// <summary>The range <paramref name="options"/> ask for from <paramref name="start"/>: its prefix, or [start, RangeEnd).</summary>
    public static KeyRange For(string start, RangeOptions options) =>
        options.RangeEnd is null ? ForPrefix(start, options.StartAfter) : Between(start, options.RangeEnd, options.StartAfter);

    /// <summary>etcd's interval [start, end), an end of "\0" meaning no end.</summary>
    public static KeyRange Between(string start, string end, string? startAfter = null) =>
        After(Encoding.UTF8.GetBytes(start), end == KeyInterval.ToEnd ? AfterAllKeys : Encoding.UTF8.GetBytes(end), startAfter);

    public static KeyRange ForPrefix(string prefix, string? startAfter = null)
    {
        byte[] low = Encoding.UTF8.GetBytes(prefix);
        return After(low, PrefixEnd(low), startAfter);
    }

    private static KeyRange After(byte[] low, byte[] high, string? startAfter)
    {
        if (startAfter is not null)
        {
            // The smallest key strictly after startAfter is startAfter followed by a zero byte.
            byte[] after = Encoding.UTF8.GetBytes(startAfter + "\0");
            if (after.AsSpan().SequenceCompareTo(low) > 0)
            {
                low = after;
            }
        }

        return new KeyRange(low, high);
    }

    private static byte[] PrefixEnd(byte[] prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xFF)
            {
                byte[] end = prefix[..(i + 1)];
                end[i]++;
                return end;
            }
        }

        return AfterAllKeys;
    }
}
