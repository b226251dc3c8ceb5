using System.Buffers.Binary;
using CsCheck;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Server;

public sealed class DnsQueryHandlerTests
{
    private const string Big = "big.default.svc.cluster.local";

    private static readonly TestCluster Cluster = new();

    [Fact]
    public void A_query_without_edns_gets_no_opt()
    {
        TestResponse response = Cluster.Ask("web.default.svc.cluster.local", DnsRecordType.A);

        Assert.Null(response.Opt);
        Assert.Equal(0x1234, response.Header.Id);
        Assert.False(response.Header.IsTruncated);
        Assert.Equal(DnsHeader.RdFlag, response.Header.Flags & DnsHeader.RdFlag);
        Assert.Equal(0, response.Header.Flags & DnsHeader.RaFlag);
    }

    [Fact]
    public void An_edns_query_gets_an_opt_with_our_size_version_0_and_do_echoed()
    {
        TestResponse response = Cluster.Ask(TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.A, udpSize: 4096, dnssecOk: true));

        TestRecord opt = Assert.IsType<TestRecord>(response.Opt);
        Assert.Equal(".", opt.Owner);
        Assert.Equal(1232, opt.Class);
        Assert.Equal((uint)DnsEdns.DoFlag, opt.Ttl);
        Assert.Equal(["10.96.0.20"], response.AnswerData);
    }

    [Fact]
    public void An_unknown_edns_version_gets_badvers_and_no_answer()
    {
        TestResponse response = Cluster.Ask(TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.A, udpSize: 1232, ednsVersion: 1));

        Assert.Equal(DnsResponseCode.BadVers, response.Code);
        Assert.Equal(0, response.Header.ResponseCode);
        Assert.Empty(response.Answers);
        Assert.Equal(0u, (response.Opt!.Ttl >> 16) & 0xFF);
    }

    [Fact]
    public void Plain_udp_truncates_at_512_with_whole_records()
    {
        TestResponse response = Cluster.Ask(Big, DnsRecordType.A);

        Assert.True(response.Truncated);
        Assert.InRange(response.Length, 1, 512);
        Assert.InRange(response.Answers.Count, 1, TestCluster.BigEndpoints - 1);
        Assert.All(response.AnswerData, ip => Assert.StartsWith("10.244.3.", ip, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(600, 600)]
    [InlineData(100, 512)]
    [InlineData(0, 512)]
    public void Edns_truncates_at_the_clients_size_but_never_below_512(ushort advertised, int limit)
    {
        TestResponse response = Cluster.Ask(Big, DnsRecordType.A, udpSize: advertised);

        Assert.True(response.Truncated);
        Assert.InRange(response.Length, limit - 16, limit);
        Assert.NotNull(response.Opt);
    }

    [Fact]
    public void Edns_sizes_above_ours_are_capped_at_ours()
    {
        TestResponse srv = Cluster.Ask($"_http._tcp.{Big}", DnsRecordType.SRV, udpSize: 65000);

        Assert.InRange(srv.Length, 1, 1232);
        Assert.True(srv.Truncated);
    }

    [Fact]
    public void A_large_enough_edns_size_gets_everything()
    {
        TestResponse response = Cluster.Ask(Big, DnsRecordType.A, udpSize: 1232);

        Assert.False(response.Truncated);
        Assert.Equal(TestCluster.BigEndpoints, response.Answers.Count);
    }

    [Fact]
    public void Tcp_gets_everything_including_glue()
    {
        TestResponse response = Cluster.Ask($"_http._tcp.{Big}", DnsRecordType.SRV, overTcp: true);

        Assert.False(response.Truncated);
        Assert.Equal(TestCluster.BigEndpoints, response.Answers.Count);
        Assert.Equal(TestCluster.BigEndpoints, response.Additional.Count);
        Assert.All(response.Answers, a => Assert.StartsWith("0 1 8080 10-244-3-", a.Data, StringComparison.Ordinal));
    }

    [Fact]
    public void Dropping_only_glue_does_not_set_tc()
    {
        // Seven SRV records (~60 bytes each) fit in 512 bytes; their seven glue A records do not.
        var cluster = new TestCluster();
        cluster.Index.SetService(TestObjects.Headless("default", "seven"));
        cluster.Index.SetEndpointSlice(TestObjects.Slice(
            "default", "seven", "seven-a", "IPv4", [.. Enumerable.Range(1, 7).Select(i => TestObjects.Endpoint($"10.244.4.{i}"))], ("http", "TCP", 80)));

        TestResponse udp = cluster.Ask("_http._tcp.seven.default.svc.cluster.local", DnsRecordType.SRV);
        TestResponse tcp = cluster.Ask("_http._tcp.seven.default.svc.cluster.local", DnsRecordType.SRV, overTcp: true);

        Assert.False(udp.Truncated);
        Assert.Equal(7, udp.Answers.Count);
        Assert.InRange(udp.Additional.Count, 0, 6);
        Assert.Equal(7, tcp.Additional.Count);
    }

    public static TheoryData<string, byte[], string?> Hostile => new()
    {
        { "eleven bytes", new byte[11], null },
        { "a response (QR=1)", WithFlags(Query(), 0x8000), null },
        { "opcode STATUS", WithFlags(Query(), 2 << 11), "NotImp" },
        { "opcode UPDATE", WithFlags(Query(), 5 << 11), "NotImp" },
        { "opcode 15", WithFlags(Query(), 15 << 11), "NotImp" },
        { "no question", WithCount(Query(), 4, 0), "FormErr" },
        { "two questions", WithCount(Query(), 4, 2), "FormErr" },
        { "question name points to itself", [.. Query()[..12], 0xC0, 12, 0, 1, 0, 1], "FormErr" },
        { "label length 64", [.. Query()[..12], 64, .. new byte[64], 0, 0, 1, 0, 1], "FormErr" },
        { "truncated question", Query()[..^3], "FormErr" },
        { "qtype OPT", TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.OPT), "FormErr" },
        { "class CH", TestQuery.Create("version.bind", DnsRecordType.TXT, @class: (ushort)DnsClass.CH), "Refused" },
        { "class ANY", TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.A, @class: (ushort)DnsClass.Any), "Refused" },
        { "AXFR", TestQuery.Create("cluster.local", DnsRecordType.AXFR), "Refused" },
        { "IXFR", TestQuery.Create("cluster.local", DnsRecordType.IXFR), "Refused" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_queries_are_dropped_or_get_a_short_error(string why, byte[] query, string? code)
    {
        byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];
        int length = Cluster.Handler.Handle(query, response, overTcp: false);

        if (code is null)
        {
            Assert.True(length == 0, $"{why}: expected a drop");
            return;
        }

        TestResponse parsed = TestResponse.Parse(response.AsSpan(0, length));
        Assert.True(Enum.Parse<DnsResponseCode>(code) == parsed.Code, $"{why}: got {parsed.Code}");
        Assert.Empty(parsed.Answers);
        Assert.InRange(length, 12, Math.Max(12, query.Length));
    }

    [Fact]
    public void Random_datagrams_never_throw_and_replies_stay_small_and_well_formed()
    {
        byte[] valid = TestQuery.Create(Big, DnsRecordType.A);
        Gen<byte[]> mutated = Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte).Array[1, 6].Select(m =>
        {
            byte[] copy = (byte[])valid.Clone();
            foreach ((int index, byte value) in m)
            {
                copy[index] = value;
            }

            return copy;
        });
        Gen.OneOf(Gen.Byte.Array[0, 700], mutated).Sample(query =>
        {
            byte[] response = new byte[DnsPayloadLimit.MaxMessageSize];
            int length = Cluster.Handler.Handle(query, response, overTcp: false);
            if (length == 0)
            {
                return;
            }

            TestResponse parsed = TestResponse.Parse(response.AsSpan(0, length));
            Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(query), parsed.Header.Id);
            Assert.True(parsed.Header.IsResponse);
            Assert.InRange(length, 12, parsed.Opt is null ? 512 : 1232);
        }, iter: 20_000);
    }

    private static byte[] Query() => TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.A);

    private static byte[] WithFlags(byte[] query, int flags)
    {
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(2), (ushort)flags);
        return query;
    }

    private static byte[] WithCount(byte[] query, int offset, ushort count)
    {
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset), count);
        return query;
    }
}
