using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Switchboard.Storage;

namespace Switchboard.EtcdFront;

/// <summary>
/// etcd's byte keys as the store's string keys (UTF-8; other bytes are refused), and etcd's key intervals (a key, a
/// prefix, [key, end), or from a key on) as the store's ranges.
/// </summary>
internal static class FrontKeys
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Key(ByteString key)
    {
        if (key.IsEmpty)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: key is not provided"));
        }

        return Decode(key, "key");
    }

    public static ByteString Bytes(string key) => ByteString.CopyFromUtf8(key);

    /// <summary>etcd's interval of <paramref name="key"/> and <paramref name="rangeEnd"/>.</summary>
    public static FrontInterval Interval(ByteString key, ByteString rangeEnd)
    {
        string start = Key(key);
        if (rangeEnd.IsEmpty)
        {
            return new FrontInterval(start, null, IsPrefix: false);
        }

        if (rangeEnd.Length == 1 && rangeEnd[0] == 0)
        {
            return start == KeyInterval.ToEnd ? new FrontInterval("", KeyInterval.ToEnd, IsPrefix: true) : new FrontInterval(start, KeyInterval.ToEnd, IsPrefix: false);
        }

        bool isPrefix = rangeEnd.Span.SequenceEqual(PrefixEnd(key.Span));
        return new FrontInterval(start, Decode(rangeEnd, "range end"), isPrefix);
    }

    private static string Decode(ByteString bytes, string what)
    {
        try
        {
            return Strict.GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"etcdserver: {what} is not UTF-8: this store keeps UTF-8 keys"));
        }
    }

    /// <summary>clientv3's GetPrefixRangeEnd: the last byte below 0xFF incremented, what follows dropped.</summary>
    private static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xFF)
            {
                byte[] end = prefix[..(i + 1)].ToArray();
                end[i]++;
                return end;
            }
        }

        return [0];
    }
}

/// <summary>
/// One of etcd's key intervals: <see cref="Start"/> alone (<see cref="End"/> null), or [Start, End) with an End of
/// "\0" meaning no end; <see cref="IsPrefix"/> when it is exactly the keys starting with Start.
/// </summary>
internal sealed record FrontInterval(string Start, string? End, bool IsPrefix)
{
    /// <summary>The store range options that read this interval.</summary>
    public RangeOptions Options(long limit, long revision) =>
        IsPrefix ? new RangeOptions(limit, revision) : new RangeOptions(limit, revision, RangeEnd: End ?? Start + "\0");

    /// <summary>The prefix a store watch needs to see every key of the interval (it may see more; <see cref="Contains"/> filters).</summary>
    public string WatchPrefix()
    {
        if (IsPrefix || End is null)
        {
            return Start;
        }

        if (End == KeyInterval.ToEnd)
        {
            return "";
        }

        int common = 0;
        while (common < Start.Length && common < End.Length && Start[common] == End[common])
        {
            common++;
        }

        return Start[..common];
    }

    public bool Contains(string key) => IsPrefix ? key.StartsWith(Start, StringComparison.Ordinal) : KeyInterval.Contains(Start, End, key);
}
