using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Trace;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Forwarding;

/// <summary>
/// Answers names outside the cluster zones for allowed clients: from the cache when it can (synchronously,
/// on the receiving thread), else through an upstream exchange the transport awaits.
/// </summary>
internal sealed class DnsForwarder
{
    /// <summary>Returned by <see cref="TryAnswer(ReadOnlySpan{byte}, Span{byte}, bool, IPAddress)"/> when the answer must come from upstream.</summary>
    public const int Pending = -1;

    /// <summary>Cache key suffix: type, class, one byte of EDNS flags.</summary>
    private const int KeySuffix = 5;

    private readonly ClientNetworks _clients;
    private readonly DnsResponseCache _cache;
    private readonly UpstreamClient _upstream;
    private readonly ForwarderOptions _options;
    private readonly DnsPayloadLimit _limit;
    private readonly ILogger _logger;
    private int _inFlight;

    public DnsForwarder(ForwarderOptions options, int maxUdpPayloadSize, TimeProvider time, ILogger logger)
    {
        _options = options;
        _limit = new DnsPayloadLimit(maxUdpPayloadSize);
        _logger = logger;
        _clients = new ClientNetworks(options.ClientNetworks);
        _cache = new DnsResponseCache(options.CacheCapacity, options.CacheMaxBytes, time);
        IReadOnlyList<IPEndPoint> upstreams = options.Upstreams.Count > 0 ? options.Upstreams : ResolvConf.ReadNameservers();
        ForwardingLoop.Refuse(upstreams, options.OwnEndPoints);
        _upstream = new UpstreamClient(upstreams, options.Timeout, time, logger);
        if (upstreams.Count == 0)
        {
            ForwarderLog.NoUpstream(logger);
        }
        else
        {
            ForwarderLog.Forwarding(logger, string.Join(", ", upstreams));
        }
    }

    public DnsResponseCache Cache => _cache;

    /// <summary>
    /// REFUSED for clients outside the allowed networks, a cached answer, SERVFAIL when the exchanges in flight are at
    /// their limit, or <see cref="Pending"/>: then one place among them is the caller's, which
    /// <see cref="ResolveAsync"/> uses and gives back (nothing is allocated for an exchange that is refused).
    /// </summary>
    public int TryAnswer(ReadOnlySpan<byte> query, Span<byte> response, bool overTcp, IPAddress client) => TryAnswer(query, response, overTcp, client, out _);

    /// <summary>As <see cref="TryAnswer(ReadOnlySpan{byte}, Span{byte}, bool, IPAddress)"/>, saying whether the cache answered (for a trace).</summary>
    public int TryAnswer(ReadOnlySpan<byte> query, Span<byte> response, bool overTcp, IPAddress client, out DnsAnswerSource source)
    {
        source = DnsAnswerSource.None;
        Span<byte> name = stackalloc byte[DnsName.MaxLength];
        if (DnsQuery.TryParse(query, name, out DnsQuery parsed) != DnsParseStatus.Ok)
        {
            return 0;
        }

        name = name[..parsed.NameLength];
        if (!_clients.Allows(client))
        {
            ForwarderLog.Refused(_logger, client);
            return WriteBare(response, parsed, name, DnsResponseCode.Refused, truncated: false);
        }

        Span<byte> key = stackalloc byte[DnsName.MaxLength + KeySuffix];
        key = Key(name, parsed, key);
        if (!_cache.TryGet(key, out UpstreamAnswer cached, out TimeSpan age))
        {
            if (Interlocked.Increment(ref _inFlight) > _options.MaxConcurrentExchanges)
            {
                Interlocked.Decrement(ref _inFlight);
                return WriteBare(response, parsed, name, DnsResponseCode.ServFail, truncated: false);
            }

            return Pending;
        }

        source = DnsAnswerSource.Cache;
        return Write(cached, query, parsed, name, response, overTcp, age);
    }

    /// <summary>
    /// After <see cref="TryAnswer(ReadOnlySpan{byte}, Span{byte}, bool, IPAddress)"/> said <see cref="Pending"/>, in the
    /// place it took: asks upstream, caches what may be cached, writes the client's reply (SERVFAIL when no upstream
    /// answered); returns its length and the upstream that answered, or the last one tried.
    /// </summary>
    public async ValueTask<(int Length, IPEndPoint? Upstream)> ResolveAsync(ReadOnlyMemory<byte> query, Memory<byte> response, bool overTcp, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(DnsPayloadLimit.MaxMessageSize);
        try
        {
            (int length, IPEndPoint? upstream) = await _upstream.ExchangeAsync(query, buffer, cancellationToken);
            UpstreamAnswer? answer = length == 0 ? null : UpstreamAnswer.TryRead(buffer.AsSpan(0, length), _options.MaxTtl, _options.MaxNegativeTtl);
            return (answer is null ? Fail(query.Span, response.Span, overTcp) : Deliver(answer, query.Span, response.Span, overTcp), upstream);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private int Deliver(UpstreamAnswer answer, ReadOnlySpan<byte> query, Span<byte> response, bool overTcp)
    {
        Span<byte> name = stackalloc byte[DnsName.MaxLength];
        if (DnsQuery.TryParse(query, name, out DnsQuery parsed) != DnsParseStatus.Ok)
        {
            return 0;
        }

        name = name[..parsed.NameLength];
        Span<byte> key = stackalloc byte[DnsName.MaxLength + KeySuffix];
        _cache.Store(Key(name, parsed, key), answer);
        return Write(answer, query, parsed, name, response, overTcp, TimeSpan.Zero);
    }

    private int Fail(ReadOnlySpan<byte> query, Span<byte> response, bool overTcp)
    {
        Span<byte> name = stackalloc byte[DnsName.MaxLength];
        return DnsQuery.TryParse(query, name, out DnsQuery parsed) == DnsParseStatus.Ok
            ? WriteBare(response, parsed, name[..parsed.NameLength], DnsResponseCode.ServFail, truncated: false)
            : 0;
    }

    /// <summary>The answer as it fits the client: whole, or over UDP an empty truncated reply that sends it to TCP.</summary>
    private int Write(UpstreamAnswer answer, ReadOnlySpan<byte> query, in DnsQuery parsed, ReadOnlySpan<byte> name, Span<byte> response, bool overTcp, TimeSpan age)
    {
        int limit = Math.Min(response.Length, _limit.For(parsed.Edns, overTcp));
        int written = answer.WriteTo(response[..limit], query, name.Length, age);
        return written > 0 ? written : WriteBare(response, parsed, name, DnsResponseCode.NoError, truncated: true);
    }

    /// <summary>Header, question and (for EDNS clients) our OPT, no records.</summary>
    private int WriteBare(Span<byte> response, in DnsQuery parsed, ReadOnlySpan<byte> name, DnsResponseCode code, bool truncated)
    {
        int position = DnsResponse.WriteHeaderAndQuestion(response, parsed.Header.Id, 0, name, parsed.QuestionType, parsed.QuestionClass);
        int additional = 0;
        if (parsed.Edns.Present)
        {
            position += DnsResponse.WriteOpt(response[position..], _limit.Advertised, code, parsed.Edns.DnssecOk);
            additional = 1;
        }

        DnsResponse.PatchFlags(response, DnsHeader.ResponseFlags(parsed.Header.Flags, authoritative: false, truncated, code));
        DnsResponse.PatchCounts(response, 0, 0, additional);
        return position;
    }

    /// <summary>Lower-case name, type, class, and whether the client spoke EDNS and set DO: what the upstream's answer depends on.</summary>
    private static Span<byte> Key(ReadOnlySpan<byte> name, in DnsQuery parsed, Span<byte> key)
    {
        DnsName.ToLowerAscii(name, key);
        BinaryPrimitives.WriteUInt16BigEndian(key[name.Length..], parsed.QuestionType);
        BinaryPrimitives.WriteUInt16BigEndian(key[(name.Length + 2)..], parsed.QuestionClass);
        key[name.Length + 4] = (byte)((parsed.Edns.Present ? 1 : 0) | (parsed.Edns.DnssecOk ? 2 : 0));
        return key[..(name.Length + KeySuffix)];
    }
}
