using System.Net;
using Switchboard.Node.Network;

namespace Switchboard.Node.Tests.Network;

public sealed class IpamTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sb-ipam-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Addresses_skip_network_gateway_and_broadcast_and_an_owner_keeps_its_own()
    {
        var ipam = new Ipam(_dir, PodCidr.Parse("10.244.3.0/24"));
        var first = ipam.Allocate("pod-a");
        Assert.Equal(IPAddress.Parse("10.244.3.2"), first);
        Assert.Equal(first, ipam.Allocate("pod-a"));
        Assert.Equal(IPAddress.Parse("10.244.3.3"), ipam.Allocate("pod-b"));
        Assert.Equal(IPAddress.Parse("10.244.3.1"), PodCidr.Parse("10.244.3.0/24").Gateway);
        Assert.Equal(253, PodCidr.Parse("10.244.3.0/24").PodAddresses.Count());
    }

    [Fact]
    public void A_restarted_allocator_never_hands_out_an_address_in_use_and_goes_round_before_reusing_a_freed_one()
    {
        var cidr = PodCidr.Parse("10.244.7.0/29");
        var before = new Ipam(_dir, cidr);
        var a = before.Allocate("a");
        var b = before.Allocate("b");
        before.Release("a");

        var after = new Ipam(_dir, cidr);
        var c = after.Allocate("c");
        Assert.NotEqual(b, c);
        Assert.NotEqual(a, c);
        Assert.Equal(b, after.Find("b"));
        var all = new[] { after.Allocate("d"), after.Allocate("e"), after.Allocate("f") };
        Assert.Equal(a, all[^1]);
        Assert.Throws<InvalidOperationException>(() => after.Allocate("g"));
    }

    [Fact]
    public void Node_subnets_are_taken_in_order_from_the_cluster_range()
    {
        Assert.Equal("10.244.0.0/24", PodCidr.Subnet("10.244.0.0/16", 0).Text);
        Assert.Equal("10.244.5.0/24", PodCidr.Subnet("10.244.0.0/16", 5).Text);
        Assert.Equal(256, PodCidr.SubnetCount("10.244.0.0/16"));
        Assert.True(PodCidr.Parse("10.244.5.0/24").Range.Contains(IPAddress.Parse("10.244.5.77")));
        Assert.False(PodCidr.Parse("10.244.5.0/24").Range.Contains(IPAddress.Parse("10.244.6.1")));
    }

    [Theory]
    [InlineData("10.244.0.0/30")]
    [InlineData("10.0.0.0/7")]
    [InlineData("10.244.0.0")]
    public void Pod_ranges_outside_slash_8_to_29_are_refused(string cidr) =>
        Assert.Equal($"pod CIDR \"{cidr}\" is not an IPv4 range between /8 and /29", Assert.Throws<FormatException>(() => PodCidr.Parse(cidr)).Message);
}
