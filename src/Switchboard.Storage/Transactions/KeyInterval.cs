using System.Text;

namespace Switchboard.Storage;

/// <summary>etcd's key intervals in byte order: a key alone, or [key, end) where an end of "\0" means no end.</summary>
public static class KeyInterval
{
    /// <summary>The range end meaning "every key from the start on".</summary>
    public const string ToEnd = "\0";

    /// <summary>Whether <paramref name="key"/> is in the interval of <paramref name="start"/> and <paramref name="end"/> (null: the start key alone).</summary>
    public static bool Contains(string start, string? end, string key)
    {
        if (end is null)
        {
            return string.Equals(start, key, StringComparison.Ordinal);
        }

        byte[] bytes = Encoding.UTF8.GetBytes(key);
        return bytes.AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(start)) >= 0
            && (end == ToEnd || bytes.AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(end)) < 0);
    }
}
