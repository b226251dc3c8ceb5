using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Forwarding;

/// <summary>
/// Response-rate limiting per client address over UDP, as BIND's RRL and CoreDNS's ratelimit do: a server reachable
/// beyond loopback answers a spoofed source at most this many times a second, so it cannot be used to flood a victim
/// with answers larger than the queries. Past the rate, responses are dropped, except every second one, which "slips"
/// out as an empty truncated reply: a real client retries over TCP (which cannot be spoofed) and still gets its answer.
/// Clients in the cluster networks are never limited. Allocation-free: a fixed table of buckets by address hash, where
/// two addresses sharing a bucket share its rate (bounded memory whatever the number of sources).
/// </summary>
internal sealed class ResponseRateLimit
{
    private const int BucketCount = 4096;
    private const int Stripes = 64;
    private const int SockaddrIPv4Length = 16;
    private const int SockaddrIPv6Length = 28;

    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, Stripes).Select(_ => new Lock())];
    private readonly (UInt128 Prefix, UInt128 Mask, bool V4)[] _exempt;
    private readonly double _perSecond;
    private readonly TimeProvider _time;

    /// <param name="responsesPerSecond">The rate (and burst) each client gets.</param>
    /// <param name="clusterNetworks">Clients never limited.</param>
    /// <param name="time">The clock the buckets refill by.</param>
    public ResponseRateLimit(int responsesPerSecond, IReadOnlyList<IPNetwork> clusterNetworks, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(responsesPerSecond);
        _perSecond = responsesPerSecond;
        _time = time;
        _exempt = [.. clusterNetworks.Select(Masked)];
    }

    /// <summary>
    /// The length to send of <paramref name="length"/> bytes of <paramref name="response"/> for the client whose native
    /// sockaddr is <paramref name="client"/>: all of it, 0 (drop) or a truncated reply written over it.
    /// </summary>
    public int Apply(ReadOnlySpan<byte> client, Span<byte> response, int length)
    {
        if (!TryAddress(client, out UInt128 address, out bool v4) || IsExempt(address, v4))
        {
            return length;
        }

        int index = (int)((ulong)address.GetHashCode() % BucketCount);
        long now = _time.GetTimestamp();
        bool slip;
        lock (_stripes[index % Stripes])
        {
            ref Bucket bucket = ref _buckets[index];
            if (bucket.Address != address || bucket.V4 != v4 || bucket.Updated == 0)
            {
                bucket = new Bucket { Address = address, V4 = v4, Tokens = _perSecond, Updated = now };
            }
            else
            {
                bucket.Tokens = Math.Min(_perSecond, bucket.Tokens + (_time.GetElapsedTime(bucket.Updated, now).TotalSeconds * _perSecond));
                bucket.Updated = now;
            }

            if (bucket.Tokens >= 1)
            {
                bucket.Tokens--;
                return length;
            }

            slip = (++bucket.Limited & 1) == 0;
        }

        return slip ? Truncate(response, length) : 0;
    }

    /// <summary>The header and question only, with TC set and no records.</summary>
    private static int Truncate(Span<byte> response, int length)
    {
        if (!DnsName.TrySkip(response[..length], DnsHeader.Size, out int questionEnd) || questionEnd + 4 > length)
        {
            return 0;
        }

        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(response[2..]);
        DnsResponse.PatchFlags(response, (ushort)(flags | DnsHeader.TcFlag));
        DnsResponse.PatchCounts(response, 0, 0, 0);
        return questionEnd + 4;
    }

    private bool IsExempt(UInt128 address, bool v4)
    {
        foreach (var (prefix, mask, isV4) in _exempt)
        {
            if (isV4 == v4 && (address & mask) == prefix)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The address of a native sockaddr_in or sockaddr_in6 (an IPv4-mapped one as IPv4).</summary>
    private static bool TryAddress(ReadOnlySpan<byte> sockaddr, out UInt128 address, out bool v4)
    {
        address = default;
        v4 = false;
        if (sockaddr.Length < 2)
        {
            return false;
        }

        int family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);
        if (family == (int)AddressFamily.InterNetwork && sockaddr.Length >= SockaddrIPv4Length)
        {
            address = BinaryPrimitives.ReadUInt32BigEndian(sockaddr[4..]);
            v4 = true;
            return true;
        }

        // Linux's AF_INET6 is 10; .NET's AddressFamily.InterNetworkV6 (23) is not the native value.
        if (family == 10 && sockaddr.Length >= SockaddrIPv6Length)
        {
            address = BinaryPrimitives.ReadUInt128BigEndian(sockaddr[8..]);
            if (address >> 32 == 0xFFFF)
            {
                address &= uint.MaxValue;
                v4 = true;
            }

            return true;
        }

        return false;
    }

    private static (UInt128 Prefix, UInt128 Mask, bool V4) Masked(IPNetwork network)
    {
        bool v4 = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork;
        int bits = v4 ? 32 : 128;
        Span<byte> bytes = stackalloc byte[16];
        network.BaseAddress.TryWriteBytes(bytes, out _);
        UInt128 value = v4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);
        UInt128 all = v4 ? uint.MaxValue : UInt128.MaxValue;
        UInt128 mask = network.PrefixLength == 0 ? 0 : (all << (bits - network.PrefixLength)) & all;
        return (value & mask, mask, v4);
    }

    private struct Bucket
    {
        public UInt128 Address;
        public bool V4;
        public double Tokens;
        public long Updated;
        public int Limited;
    }
}
