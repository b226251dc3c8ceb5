using System.Text;
using Google.Protobuf;

namespace Switchboard.Storage.Etcd;

/// <summary>Turns Switchboard's string keys and prefixes into etcd's byte ranges.</summary>
internal static class EtcdKeys
{
    /// <summary>etcd's "\0": as a key the smallest one, as a range end "to the end of the keyspace".</summary>
    private static readonly ByteString Zero = ByteString.CopyFrom(0);

    public static ByteString Key(string key) => ByteString.CopyFromUtf8(key);

    /// <summary>[key, rangeEnd) covering every key that starts with <paramref name="prefix"/> (everything for "").</summary>
    public static (ByteString Key, ByteString RangeEnd) Prefix(string prefix)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(prefix);
        return bytes.Length == 0 ? (Zero, Zero) : (ByteString.CopyFrom(bytes), PrefixEnd(bytes));
    }

    /// <summary>
    /// The start of a page: the first key strictly after <paramref name="startAfter"/> (that key + "\0"),
    /// unless that is still before <paramref name="prefix"/>.
    /// </summary>
    public static ByteString PageStart(ByteString prefix, string startAfter)
    {
        byte[] after = new byte[Encoding.UTF8.GetByteCount(startAfter) + 1];
        Encoding.UTF8.GetBytes(startAfter, after);
        return after.AsSpan().SequenceCompareTo(prefix.Span) > 0 ? ByteString.CopyFrom(after) : prefix;
    }

    /// <summary>The prefix with its last byte below 0xFF incremented and what follows dropped, as clientv3's GetPrefixRangeEnd.</summary>
    private static ByteString PrefixEnd(byte[] prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xFF)
            {
                byte[] end = prefix[..(i + 1)];
                end[i]++;
                return ByteString.CopyFrom(end);
            }
        }

        return Zero;
    }
}
