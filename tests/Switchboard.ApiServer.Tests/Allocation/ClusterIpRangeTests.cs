using System.Net;
using Switchboard.ApiServer.Allocation;

namespace Switchboard.ApiServer.Tests.Allocation;

public sealed class ClusterIpRangeTests
{
    [Fact]
    public void Slots_skip_the_network_and_broadcast_addresses()
    {
        var range = ClusterIpRange.Parse("10.96.0.0/24");

        Assert.Equal(254, range.Size);
        Assert.Equal("10.96.0.0/24", range.Text);
        Assert.Equal(IPAddress.Parse("10.96.0.1"), range.AddressAt(0));
        Assert.Equal(IPAddress.Parse("10.96.0.254"), range.AddressAt(253));
        Assert.Equal(0, range.IndexOf(IPAddress.Parse("10.96.0.1")));
        Assert.Equal(253, range.IndexOf(IPAddress.Parse("10.96.0.254")));
        Assert.Null(range.IndexOf(IPAddress.Parse("10.96.0.0")));
        Assert.Null(range.IndexOf(IPAddress.Parse("10.96.0.255")));
        Assert.Null(range.IndexOf(IPAddress.Parse("10.96.1.1")));
        Assert.Null(range.IndexOf(IPAddress.IPv6Loopback));
    }

    [Theory]
    [InlineData("10.96.0.0/28", 14, 0)]
    [InlineData("10.96.0.0/24", 254, 16)]
    [InlineData("10.96.0.0/20", 4094, 255)]
    [InlineData("10.96.0.0/16", 65534, 256)]
    [InlineData("0.0.0.0/1", int.MaxValue - 1, 256)]
    public void The_static_band_is_kep_3070s(string cidr, int size, int staticOffset)
    {
        var range = ClusterIpRange.Parse(cidr);

        Assert.Equal(size, range.Size);
        Assert.Equal(staticOffset, range.StaticOffset);
    }

    [Theory]
    [InlineData("10.96.0.0/30")]
    [InlineData("0.0.0.0/0")]
    [InlineData("10.96.0.0")]
    [InlineData("fd00::/112")]
    public void Ranges_outside_slash_1_to_29_are_refused(string cidr) =>
        Assert.Equal(
            $"service CIDR '{cidr}' is not an IPv4 CIDR with a prefix between /1 and /29",
            Assert.Throws<FormatException>(() => ClusterIpRange.Parse(cidr)).Message);
}
