using CsCheck;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Wire;

public sealed class DnsNameTests
{
    private static readonly Gen<string> Label = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"], 1, DnsName.MaxLabelLength];

    private static readonly Gen<string> Name = Label.Array[1, 6].Where(l => l.Sum(x => x.Length + 1) + 1 <= DnsName.MaxLength).Select(l => string.Join('.', l));

    [Fact]
    public void Reads_an_uncompressed_name_and_reports_where_it_ends()
    {
        byte[] message = [.. new byte[12], .. DnsName.Parse("svc.ns.svc.cluster.local"), 0, 1];

        Assert.True(DnsName.TryRead(message, 12, new byte[255], out int length, out int end));

        Assert.Equal(DnsName.Parse("svc.ns.svc.cluster.local").Length, length);
        Assert.Equal(message.Length - 2, end);
    }

    [Fact]
    public void Follows_a_backward_pointer_and_ends_after_it()
    {
        byte[] first = DnsName.Parse("cluster.local");
        byte[] message = [.. new byte[12], .. first, 3, (byte)'s', (byte)'v', (byte)'c', 0xC0, 12, 0xFF];
        byte[] name = new byte[255];

        Assert.True(DnsName.TryRead(message, 12 + first.Length, name, out int length, out int end));

        Assert.Equal("svc.cluster.local.", DnsName.ToText(name.AsSpan(0, length)));
        Assert.Equal(message.Length - 1, end);
    }

    public static TheoryData<string, byte[]> HostileNames => new()
    {
        { "pointer to itself", [.. new byte[12], 0xC0, 12] },
        { "forward pointer", [.. new byte[12], 0xC0, 14, 0] },
        { "loop A to B to A", [.. new byte[12], 1, (byte)'a', 0xC0, 16, 1, (byte)'b', 0xC0, 12] },
        { "pointer beyond the end", [.. new byte[12], 0xC0, 0xFF] },
        { "half a pointer", [.. new byte[12], 0xC0] },
        { "label type 0x40", [.. new byte[12], 0x40, 0] },
        { "label type 0x80", [.. new byte[12], 0x80, 0] },
        { "label runs past the end", [.. new byte[12], 5, (byte)'a', (byte)'b'] },
        { "no root label", [.. new byte[12], 1, (byte)'a'] },
        { "empty", [.. new byte[12]] },
        { "256 octets", [.. new byte[12], .. Enumerable.Repeat<byte[]>([63, .. new byte[63]], 4).SelectMany(x => x), 0] },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public void Rejects_hostile_names(string why, byte[] message)
    {
        Assert.False(DnsName.TryRead(message, 12, new byte[255], out _, out _), why);
    }

    [Fact]
    public void Accepts_the_longest_legal_name()
    {
        // 3 x 63-octet labels + one 61-octet label = 255 octets with length bytes and root.
        byte[] name = [.. Enumerable.Repeat<byte[]>([63, .. Enumerable.Repeat((byte)'a', 63)], 3).SelectMany(x => x), 61, .. Enumerable.Repeat((byte)'b', 61), 0];
        Assert.Equal(255, name.Length);

        Assert.True(DnsName.TryRead(name, 0, new byte[255], out int length, out _));
        Assert.Equal(255, length);
    }

    [Fact]
    public void Pointer_chains_through_earlier_names_are_followed()
    {
        // "local" at 12, "cluster" -> 12 at 18, "svc" -> 18 at 28
        byte[] message = [.. new byte[12], 5, .. "local"u8, 0, 7, .. "cluster"u8, 0xC0, 12, 3, .. "svc"u8, 0xC0, 19];
        byte[] name = new byte[255];

        Assert.True(DnsName.TryRead(message, 29, name, out int length, out _));
        Assert.Equal("svc.cluster.local.", DnsName.ToText(name.AsSpan(0, length)));
    }

    [Theory]
    [InlineData("SvC.NS.svc.Cluster.LOCAL", "svc.ns.svc.cluster.local", true)]
    [InlineData("svc.ns.svc.cluster.local", "svd.ns.svc.cluster.local", false)]
    [InlineData("a.b", "a.bc", false)]
    public void Compares_names_ignoring_ascii_case_only(string left, string right, bool equal)
    {
        Assert.Equal(equal, DnsName.EqualsIgnoreCase(DnsName.Parse(left), DnsName.Parse(right)));
    }

    [Theory]
    [InlineData("a.svc.cluster.local", "cluster.local", 6)]
    [InlineData("CLUSTER.local", "cluster.local", 0)]
    [InlineData("xcluster.local", "cluster.local", -1)]
    [InlineData("local", "cluster.local", -1)]
    public void Finds_a_suffix_only_on_a_label_boundary(string name, string suffix, int offset)
    {
        Assert.Equal(offset, DnsName.FindSuffix(DnsName.Parse(name), DnsName.Parse(suffix)));
    }

    [Fact]
    public void Text_round_trips_through_wire_form()
    {
        Name.Sample(text =>
        {
            byte[] wire = DnsName.Parse(text);
            Assert.Equal(text + ".", DnsName.ToText(wire));
            Assert.Equal(text.Length + 2, wire.Length);
        });
    }

    [Fact]
    public void Random_bytes_never_throw_and_accepted_names_obey_the_limits()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[0, 300]).Sample((bytes, offset) =>
        {
            byte[] name = new byte[255];
            if (DnsName.TryRead(bytes, offset, name, out int length, out int end))
            {
                Assert.InRange(length, 1, DnsName.MaxLength);
                Assert.InRange(end, offset + 1, bytes.Length);
                for (int i = 0; name[i] != 0; i += 1 + name[i])
                {
                    Assert.InRange(name[i], 1, DnsName.MaxLabelLength);
                }
            }
        }, iter: 20_000);
    }
}
