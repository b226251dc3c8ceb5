using CsCheck;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Wire;

public sealed class DnsQueryTests
{
    [Fact]
    public void Parses_question_and_edns()
    {
        byte[] message = TestQuery.Create("Svc.NS.svc.cluster.local", DnsRecordType.SRV, id: 7, udpSize: 1232, ednsVersion: 0, dnssecOk: true);
        byte[] name = new byte[255];

        Assert.Equal(DnsParseStatus.Ok, DnsQuery.TryParse(message, name, out DnsQuery query));

        Assert.Equal(7, query.Header.Id);
        Assert.Equal("Svc.NS.svc.cluster.local.", DnsName.ToText(name.AsSpan(0, query.NameLength)));
        Assert.Equal((ushort)DnsRecordType.SRV, query.QuestionType);
        Assert.Equal((ushort)DnsClass.IN, query.QuestionClass);
        Assert.Equal(new DnsEdns(true, 1232, 0, true), query.Edns);
    }

    [Fact]
    public void Without_opt_there_is_no_edns()
    {
        byte[] name = new byte[255];
        Assert.Equal(DnsParseStatus.Ok, DnsQuery.TryParse(TestQuery.Create("a.b", DnsRecordType.A), name, out DnsQuery query));
        Assert.False(query.Edns.Present);
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "two questions", Patch(TestQuery.Create("a.b", DnsRecordType.A), 5, 2) },
        { "no question", Patch(TestQuery.Create("a.b", DnsRecordType.A), 5, 0) },
        { "question without type and class", TestQuery.Create("a.b", DnsRecordType.A)[..^4] },
        { "additional count larger than the data", Patch(TestQuery.Create("a.b", DnsRecordType.A), 11, 1) },
        { "two OPT records", TwoOpts() },
        { "OPT with a non-root owner", OptOwnedBy("x") },
        { "RDLENGTH past the end", Patch(TestQuery.Create("a.b", DnsRecordType.A, udpSize: 512), ^1, 9) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Rejects_malformed_queries(string why, byte[] message)
    {
        Assert.True(DnsQuery.TryParse(message, new byte[255], out _) == DnsParseStatus.Malformed, why);
    }

    [Fact]
    public void Eleven_bytes_are_too_short()
    {
        Assert.Equal(DnsParseStatus.TooShort, DnsQuery.TryParse(new byte[11], new byte[255], out _));
    }

    [Fact]
    public void Queries_round_trip()
    {
        Gen.Select(
            Gen.String[Gen.Char["abcXYZ019-"], 1, 63].Array[1, 4].Select(l => string.Join('.', l)),
            Gen.UShort,
            Gen.UShort,
            Gen.UShort[0, 4096].Nullable(),
            Gen.Byte,
            Gen.Bool).Sample((name, type, id, udpSize, version, dnssecOk) =>
            {
                byte[] message = TestQuery.Create(DnsName.Parse(name), type, id, udpSize, version, dnssecOk, DnsHeader.RdFlag, (ushort)DnsClass.IN);
                byte[] read = new byte[255];

                Assert.Equal(DnsParseStatus.Ok, DnsQuery.TryParse(message, read, out DnsQuery query));

                Assert.Equal(id, query.Header.Id);
                Assert.Equal(name + ".", DnsName.ToText(read.AsSpan(0, query.NameLength)));
                Assert.Equal(type, query.QuestionType);
                Assert.Equal(udpSize is null ? default : new DnsEdns(true, udpSize.Value, version, dnssecOk), query.Edns);
            });
    }

    [Fact]
    public void Random_bytes_give_a_status_and_never_throw()
    {
        Gen.Byte.Array[0, 600].Sample(bytes =>
        {
            DnsParseStatus status = DnsQuery.TryParse(bytes, new byte[255], out _);
            Assert.True(Enum.IsDefined(status));
            Assert.Equal(bytes.Length < 12, status == DnsParseStatus.TooShort);
        }, iter: 20_000);
    }

    [Fact]
    public void Mutated_queries_never_throw()
    {
        byte[] valid = TestQuery.Create("svc.ns.svc.cluster.local", DnsRecordType.A, udpSize: 1232);
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte).Array[1, 8].Sample(mutations =>
        {
            byte[] message = (byte[])valid.Clone();
            foreach ((int index, byte value) in mutations)
            {
                message[index] = value;
            }

            _ = DnsQuery.TryParse(message, new byte[255], out _);
        }, iter: 20_000);
    }

    private static byte[] Patch(byte[] message, Index index, byte value)
    {
        message[index] = value;
        return message;
    }

    private static byte[] TwoOpts()
    {
        byte[] one = TestQuery.Create("a.b", DnsRecordType.A, udpSize: 512);
        byte[] opt = one[^11..];
        byte[] two = [.. one, .. opt];
        two[11] = 2;
        return two;
    }

    private static byte[] OptOwnedBy(string owner)
    {
        byte[] query = TestQuery.Create("a.b", DnsRecordType.A);
        query[11] = 1;
        byte[] record = [.. DnsName.Parse(owner), 0, 41, 2, 0, 0, 0, 0, 0, 0, 0];
        return [.. query, .. record];
    }
}
