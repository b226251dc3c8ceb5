using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Forwarding;

/// <summary>The forwarder against a scripted upstream on loopback, driven by a fake clock.</summary>
public sealed class DnsForwarderTests : IAsyncLifetime
{
    private static readonly IPAddress Loopback = IPAddress.Loopback;
    private readonly FakeTimeProvider _time = new(TestCluster.Now);
    private readonly FakeUpstream _upstream = new((name, _) => name switch
    {
        "example.com" => FakeReply.Address(300, "192.0.2.10"),
        "short.example.com" => FakeReply.Address(5, "192.0.2.11"),
        "missing.example.com" => FakeReply.NxDomain((300, 60)),
        "nosoa.example.com" => FakeReply.NxDomain(soa: null),
        "big.example.com" => new FakeReply(DnsResponseCode.NoError, [.. Enumerable.Range(1, 60).Select(i => $"192.0.2.{i}")], TruncateOverUdp: true),
        _ => new FakeReply(DnsResponseCode.ServFail, []),
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task An_answer_comes_from_upstream_with_the_clients_id_then_from_the_cache_with_its_ttl_counted_down()
    {
        DnsForwarder forwarder = Forwarder();

        TestResponse first = await AskAsync(forwarder, TestQuery.Create("example.com", DnsRecordType.A, id: 0x4242));
        _time.Advance(TimeSpan.FromSeconds(100));
        TestResponse second = await AskAsync(forwarder, TestQuery.Create("example.com", DnsRecordType.A, id: 0x0101));

        Assert.Equal(0x4242, first.Header.Id);
        Assert.Equal(0x0101, second.Header.Id);
        Assert.Equal(["192.0.2.10"], first.AnswerData);
        Assert.Equal(["192.0.2.10"], second.AnswerData);
        Assert.Equal(300u, first.Answers[0].Ttl);
        Assert.Equal(200u, second.Answers[0].Ttl);
        Assert.Equal(1, _upstream.Count("example.com", DnsRecordType.A));
        Assert.Equal(1, forwarder.Cache.Hits);
    }

    [Fact]
    public async Task A_positive_answer_expires_with_its_ttl()
    {
        DnsForwarder forwarder = Forwarder();

        await AskAsync(forwarder, TestQuery.Create("short.example.com", DnsRecordType.A));
        _time.Advance(TimeSpan.FromSeconds(4));
        await AskAsync(forwarder, TestQuery.Create("short.example.com", DnsRecordType.A));
        Assert.Equal(1, _upstream.Count("short.example.com", DnsRecordType.A));

        _time.Advance(TimeSpan.FromSeconds(2));
        await AskAsync(forwarder, TestQuery.Create("short.example.com", DnsRecordType.A));
        Assert.Equal(2, _upstream.Count("short.example.com", DnsRecordType.A));
    }

    [Fact]
    public async Task A_negative_answer_is_cached_for_the_soa_minimum_and_keeps_its_soa()
    {
        DnsForwarder forwarder = Forwarder();

        TestResponse first = await AskAsync(forwarder, TestQuery.Create("missing.example.com", DnsRecordType.A));
        _time.Advance(TimeSpan.FromSeconds(59));
        TestResponse cached = await AskAsync(forwarder, TestQuery.Create("missing.example.com", DnsRecordType.A));
        Assert.Equal(1, _upstream.Count("missing.example.com", DnsRecordType.A));
        _time.Advance(TimeSpan.FromSeconds(2));
        await AskAsync(forwarder, TestQuery.Create("missing.example.com", DnsRecordType.A));

        Assert.Equal(DnsResponseCode.NXDomain, first.Code);
        Assert.Equal(DnsResponseCode.NXDomain, cached.Code);
        Assert.Equal(DnsRecordType.SOA, Assert.Single(cached.Authority).Type);
        Assert.Equal(241u, cached.Authority[0].Ttl);
        Assert.Equal(2, _upstream.Count("missing.example.com", DnsRecordType.A));
    }

    [Fact]
    public async Task A_negative_answer_without_soa_is_not_cached()
    {
        DnsForwarder forwarder = Forwarder();

        await AskAsync(forwarder, TestQuery.Create("nosoa.example.com", DnsRecordType.A));
        await AskAsync(forwarder, TestQuery.Create("nosoa.example.com", DnsRecordType.A));

        Assert.Equal(2, _upstream.Count("nosoa.example.com", DnsRecordType.A));
    }

    [Fact]
    public async Task A_truncated_udp_answer_is_fetched_again_over_tcp_and_truncated_only_for_a_small_client()
    {
        DnsForwarder forwarder = Forwarder();

        TestResponse plainUdp = await AskAsync(forwarder, TestQuery.Create("big.example.com", DnsRecordType.A));
        TestResponse overTcp = await AskAsync(forwarder, TestQuery.Create("big.example.com", DnsRecordType.A), overTcp: true);

        Assert.Equal(["big.example.com. A udp", "big.example.com. A tcp"], _upstream.Asked);
        Assert.True(plainUdp.Truncated);
        Assert.Empty(plainUdp.Answers);
        Assert.InRange(plainUdp.Length, 1, 512);
        Assert.False(overTcp.Truncated);
        Assert.Equal(60, overTcp.Answers.Count);
    }

    [Fact]
    public async Task The_cache_echoes_the_askers_case_and_keys_case_insensitively()
    {
        DnsForwarder forwarder = Forwarder();

        await AskAsync(forwarder, TestQuery.Create("example.com", DnsRecordType.A));
        TestResponse mixed = await AskAsync(forwarder, TestQuery.Create("ExAmPle.COM", DnsRecordType.A));

        Assert.Equal("ExAmPle.COM.", mixed.QuestionName);
        Assert.Equal("ExAmPle.COM.", mixed.Answers[0].Owner);
        Assert.Equal(1, _upstream.Count("example.com", DnsRecordType.A));
    }

    [Fact]
    public async Task The_cache_holds_at_most_its_capacity_and_evicts_the_least_recently_used()
    {
        DnsForwarder forwarder = Forwarder(new ForwarderOptions { Upstreams = [_upstream.EndPoint], CacheCapacity = 2 });

        await AskAsync(forwarder, TestQuery.Create("example.com", DnsRecordType.A));
        await AskAsync(forwarder, TestQuery.Create("missing.example.com", DnsRecordType.A));
        await AskAsync(forwarder, TestQuery.Create("example.com", DnsRecordType.A));
        await AskAsync(forwarder, TestQuery.Create("short.example.com", DnsRecordType.A));
        await AskAsync(forwarder, TestQuery.Create("example.com", DnsRecordType.A));
        await AskAsync(forwarder, TestQuery.Create("missing.example.com", DnsRecordType.A));

        Assert.Equal(2, forwarder.Cache.Count);
        Assert.Equal(1, _upstream.Count("example.com", DnsRecordType.A));
        Assert.Equal(2, _upstream.Count("missing.example.com", DnsRecordType.A));
    }

    [Theory]
    [InlineData("192.0.2.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("10.245.0.1", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("::1", true)]
    [InlineData("10.244.3.7", true)]
    [InlineData("10.96.0.10", true)]
    [InlineData("::ffff:10.244.0.5", true)]
    public void Only_loopback_and_cluster_clients_are_served_others_are_refused_without_asking_upstream(string client, bool allowed)
    {
        DnsForwarder forwarder = Forwarder();
        byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];

        int length = forwarder.TryAnswer(TestQuery.Create("example.com", DnsRecordType.A), response, overTcp: false, IPAddress.Parse(client));

        if (allowed)
        {
            Assert.Equal(DnsForwarder.Pending, length);
        }
        else
        {
            TestResponse refused = TestResponse.Parse(response.AsSpan(0, length));
            Assert.Equal(DnsResponseCode.Refused, refused.Code);
            Assert.Empty(refused.Answers);
        }

        Assert.Empty(_upstream.Asked);
    }

    [Fact]
    public void The_client_networks_are_configurable()
    {
        DnsForwarder forwarder = Forwarder(new ForwarderOptions { Upstreams = [_upstream.EndPoint], ClientNetworks = [IPNetwork.Parse("192.0.2.0/24")] });
        byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];

        Assert.Equal(DnsForwarder.Pending, forwarder.TryAnswer(TestQuery.Create("example.com", DnsRecordType.A), response, false, IPAddress.Parse("192.0.2.99")));
        Assert.NotEqual(DnsForwarder.Pending, forwarder.TryAnswer(TestQuery.Create("example.com", DnsRecordType.A), response, false, IPAddress.Parse("10.244.0.1")));
    }

    [Fact]
    public async Task A_silent_upstream_is_given_up_after_its_timeout_for_the_next_and_with_none_left_the_answer_is_servfail()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var silentEndPoint = (IPEndPoint)silent.LocalEndPoint!;
        var timeout = TimeSpan.FromSeconds(2);
        DnsForwarder forwarder = Forwarder(new ForwarderOptions { Upstreams = [silentEndPoint, _upstream.EndPoint], Timeout = timeout });
        DnsForwarder alone = Forwarder(new ForwarderOptions { Upstreams = [silentEndPoint], Timeout = timeout });

        // An attempt's timeout starts on the fake clock before the exchange first waits, so both are pending on it here.
        Task<TestResponse> second = AskAsync(forwarder, TestQuery.Create("example.com", DnsRecordType.A));
        Task<TestResponse> none = AskAsync(alone, TestQuery.Create("example.com", DnsRecordType.A));
        _time.Advance(timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(second.IsCompleted || none.IsCompleted, "gave up on the silent upstream before its timeout");
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["192.0.2.10"], (await second).AnswerData);
        Assert.Equal(DnsResponseCode.ServFail, (await none).Code);
    }

    [Fact]
    public void An_upstream_that_is_the_servers_own_listener_is_refused_at_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Forwarder(new ForwarderOptions { Upstreams = [_upstream.EndPoint], OwnEndPoints = [_upstream.EndPoint] }));

        Assert.StartsWith($"forwarding loop: upstream {_upstream.EndPoint}", error.Message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Asked);
    }

    [Fact]
    public async Task The_cache_is_bounded_in_bytes_as_well_as_in_answers()
    {
        await using var upstream = new FakeUpstream((_, _) => FakeReply.Address(300, "192.0.2.1"));
        DnsForwarder forwarder = Forwarder(new ForwarderOptions { Upstreams = [upstream.EndPoint], CacheCapacity = 10_000, CacheMaxBytes = 400 });

        for (int i = 0; i < 20; i++)
        {
            await AskAsync(forwarder, TestQuery.Create($"name{i}.example.com", DnsRecordType.A));
        }

        Assert.InRange(forwarder.Cache.Bytes, 1, 400);
        Assert.InRange(forwarder.Cache.Count, 1, 19);
        await AskAsync(forwarder, TestQuery.Create("name19.example.com", DnsRecordType.A));
        await AskAsync(forwarder, TestQuery.Create("name0.example.com", DnsRecordType.A));
        Assert.Equal((1, 2), (upstream.Count("name19.example.com", DnsRecordType.A), upstream.Count("name0.example.com", DnsRecordType.A)));
    }

    [Fact]
    public void A_forward_over_the_in_flight_limit_is_answered_servfail_before_anything_is_allocated_for_it()
    {
        DnsForwarder forwarder = Forwarder(new ForwarderOptions { Upstreams = [_upstream.EndPoint], MaxConcurrentExchanges = 1 });
        byte[] response = new byte[512];
        Assert.Equal(DnsForwarder.Pending, forwarder.TryAnswer(TestQuery.Create("example.com", DnsRecordType.A), response, overTcp: false, Loopback));

        // The first holds the one place: the second is refused by TryAnswer itself, so no exchange (and no 64 KiB
        // buffer for its reply) is ever started for it.
        int length = forwarder.TryAnswer(TestQuery.Create("other.example.com", DnsRecordType.A), response, overTcp: false, Loopback);

        Assert.NotEqual(DnsForwarder.Pending, length);
        Assert.Equal(DnsResponseCode.ServFail, TestResponse.Parse(response.AsSpan(0, length)).Code);
        Assert.Empty(_upstream.Asked);
    }

    private DnsForwarder Forwarder(ForwarderOptions? options = null) =>
        new(options ?? new ForwarderOptions { Upstreams = [_upstream.EndPoint] }, 1232, _time, NullLogger.Instance);

    private static async Task<TestResponse> AskAsync(DnsForwarder forwarder, byte[] query, bool overTcp = false)
    {
        byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];
        int length = forwarder.TryAnswer(query, response, overTcp, Loopback);
        if (length == DnsForwarder.Pending)
        {
            length = (await forwarder.ResolveAsync(query, response, overTcp, CancellationToken.None)).Length;
        }

        Assert.True(length > 0, "the forwarder dropped the query");
        return TestResponse.Parse(response.AsSpan(0, length));
    }
}
