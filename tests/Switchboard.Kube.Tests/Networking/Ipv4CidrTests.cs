using System.Net;
using CsCheck;
using Switchboard.Kube.Networking;

namespace Switchboard.Kube.Tests.Networking;

public sealed class Ipv4CidrTests
{
    private static readonly Gen<Ipv4Cidr> Cidrs =
        Gen.Select(Gen.UInt, Gen.Int[0, 32], (address, prefix) => Ipv4Cidr.Parse($"{Address(address)}/{prefix}"));

    [Fact]
    public void A_cidr_parses_to_its_network_prefix_and_size()
    {
        var cidr = Ipv4Cidr.Parse("10.96.0.0/16");

        Assert.Equal(IPAddress.Parse("10.96.0.0"), cidr.Network);
        Assert.Equal(16, cidr.PrefixLength);
        Assert.Equal(65_536, cidr.AddressCount);
        Assert.Equal("10.96.0.0/16", cidr.ToString());
    }

    [Fact]
    public void Host_bits_are_cleared_so_equal_blocks_are_equal()
    {
        var cidr = Ipv4Cidr.Parse("10.96.3.7/16");

        Assert.Equal("10.96.0.0/16", cidr.ToString());
        Assert.Equal(Ipv4Cidr.Parse("10.96.0.0/16"), cidr);
        Assert.NotEqual(Ipv4Cidr.Parse("10.96.0.0/17"), cidr);
    }

    [Fact]
    public void Slash_zero_spans_every_address_and_slash_32_one()
    {
        var all = Ipv4Cidr.Parse("0.0.0.0/0");
        Assert.Equal(1L << 32, all.AddressCount);
        Assert.Equal(IPAddress.Parse("255.255.255.255"), all.AddressAt(uint.MaxValue));
        Assert.True(all.Contains(IPAddress.Parse("203.0.113.9")));
        Assert.Equal(default, all);

        var one = Ipv4Cidr.Parse("192.0.2.5/32");
        Assert.Equal(1, one.AddressCount);
        Assert.Equal(IPAddress.Parse("192.0.2.5"), one.AddressAt(0));
        Assert.True(one.Contains(IPAddress.Parse("192.0.2.5")));
        Assert.False(one.Contains(IPAddress.Parse("192.0.2.4")));
        Assert.False(one.Contains(IPAddress.Parse("192.0.2.6")));
    }

    [Fact]
    public void Offsets_count_from_the_network_address_and_stop_at_the_broadcast_address()
    {
        var cidr = Ipv4Cidr.Parse("10.244.3.0/24");

        Assert.Equal(IPAddress.Parse("10.244.3.0"), cidr.AddressAt(0));
        Assert.Equal(IPAddress.Parse("10.244.3.255"), cidr.AddressAt(255));
        Assert.Equal(77, cidr.OffsetOf(IPAddress.Parse("10.244.3.77")));
        Assert.Null(cidr.OffsetOf(IPAddress.Parse("10.244.4.0")));
        Assert.Null(cidr.OffsetOf(IPAddress.Parse("10.244.2.255")));
        Assert.Throws<ArgumentOutOfRangeException>(() => cidr.AddressAt(256));
        Assert.Throws<ArgumentOutOfRangeException>(() => cidr.AddressAt(-1));
    }

    [Fact]
    public void Ipv6_addresses_are_never_inside()
    {
        var cidr = Ipv4Cidr.Parse("0.0.0.0/0");

        Assert.False(cidr.Contains(IPAddress.IPv6Loopback));
        Assert.False(cidr.Contains(IPAddress.Parse("::ffff:10.0.0.1")));
    }

    [Fact]
    public void Subnets_are_numbered_in_address_order()
    {
        var cluster = Ipv4Cidr.Parse("10.244.0.0/16");

        Assert.Equal(256, cluster.SubnetCount(24));
        Assert.Equal(1, cluster.SubnetCount(16));
        Assert.Equal("10.244.0.0/24", cluster.Subnet(24, 0).ToString());
        Assert.Equal("10.244.255.0/24", cluster.Subnet(24, 255).ToString());
        Assert.Equal("10.244.128.0/17", cluster.Subnet(17, 1).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.Subnet(24, 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.SubnetCount(15));
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.SubnetCount(33));
    }

    [Theory]
    [InlineData("10.96.0.0", "\"10.96.0.0\" is not an IPv4 CIDR: no \"/\" and prefix length")]
    [InlineData("", "\"\" is not an IPv4 CIDR: no \"/\" and prefix length")]
    [InlineData("10.96/16", "\"10.96/16\" is not an IPv4 CIDR: the address \"10.96\" is not four decimal octets from 0 to 255")]
    [InlineData("10.96.0.0.1/16", "\"10.96.0.0.1/16\" is not an IPv4 CIDR: the address \"10.96.0.0.1\" is not four decimal octets from 0 to 255")]
    [InlineData("10.96.0.256/16", "\"10.96.0.256/16\" is not an IPv4 CIDR: the address \"10.96.0.256\" is not four decimal octets from 0 to 255")]
    [InlineData("010.96.0.0/16", "\"010.96.0.0/16\" is not an IPv4 CIDR: the address \"010.96.0.0\" is not four decimal octets from 0 to 255")]
    [InlineData("10..0.0/16", "\"10..0.0/16\" is not an IPv4 CIDR: the address \"10..0.0\" is not four decimal octets from 0 to 255")]
    [InlineData("0x0a.0.0.0/8", "\"0x0a.0.0.0/8\" is not an IPv4 CIDR: the address \"0x0a.0.0.0\" is not four decimal octets from 0 to 255")]
    [InlineData("fd00::/64", "\"fd00::/64\" is not an IPv4 CIDR: the address \"fd00::\" is not four decimal octets from 0 to 255")]
    [InlineData("10.96.0.0/33", "\"10.96.0.0/33\" is not an IPv4 CIDR: the prefix length \"33\" is not a decimal number from 0 to 32")]
    [InlineData("10.96.0.0/", "\"10.96.0.0/\" is not an IPv4 CIDR: the prefix length \"\" is not a decimal number from 0 to 32")]
    [InlineData("10.96.0.0/+8", "\"10.96.0.0/+8\" is not an IPv4 CIDR: the prefix length \"+8\" is not a decimal number from 0 to 32")]
    [InlineData("10.96.0.0/ 8", "\"10.96.0.0/ 8\" is not an IPv4 CIDR: the prefix length \" 8\" is not a decimal number from 0 to 32")]
    [InlineData("10.96.0.0/08", "\"10.96.0.0/08\" is not an IPv4 CIDR: the prefix length \"08\" is not a decimal number from 0 to 32")]
    [InlineData("10.96.0.0/16/1", "\"10.96.0.0/16/1\" is not an IPv4 CIDR: the prefix length \"16/1\" is not a decimal number from 0 to 32")]
    public void Malformed_text_is_refused_with_what_is_wrong(string text, string message)
    {
        Assert.Equal(message, Assert.Throws<FormatException>(() => Ipv4Cidr.Parse(text)).Message);
        Assert.False(Ipv4Cidr.TryParse(text, out var cidr));
        Assert.Equal(default, cidr);
    }

    [Fact]
    public void Null_is_refused()
    {
        Assert.False(Ipv4Cidr.TryParse(null, out _));
        Assert.Throws<ArgumentNullException>(() => Ipv4Cidr.Parse(null!));
    }

    [Fact]
    public void The_canonical_text_parses_back_to_the_same_block() =>
        Cidrs.Sample(cidr => Assert.Equal(cidr, Ipv4Cidr.Parse(cidr.ToString())));

    [Fact]
    public void Every_address_at_an_offset_is_inside_at_that_offset_and_its_neighbours_outside_are_not() =>
        Cidrs.SelectMany(cidr => Gen.Long[0, cidr.AddressCount - 1], (cidr, offset) => (cidr, offset)).Sample(c =>
        {
            var (cidr, offset) = c;
            var address = cidr.AddressAt(offset);

            Assert.True(cidr.Contains(address));
            Assert.Equal(offset, cidr.OffsetOf(address));
            Assert.Equal(cidr.Network, cidr.AddressAt(0));
            uint first = ToUInt(cidr.Network);
            long last = first + cidr.AddressCount - 1;
            if (first > 0)
            {
                Assert.False(cidr.Contains(Address(first - 1)));
            }

            if (last < uint.MaxValue)
            {
                Assert.False(cidr.Contains(Address((uint)last + 1)));
            }
        });

    private static IPAddress Address(uint value) => new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    private static uint ToUInt(IPAddress address)
    {
        byte[] b = address.GetAddressBytes();
        return ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
    }
}
