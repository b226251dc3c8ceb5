using k8s.Models;
using Switchboard.Controllers.Endpoints;

namespace Switchboard.Controllers.Tests.Endpoints;

/// <summary>The 1000-address cap of an Endpoints object, shared out as upstream's truncateEndpoints does.</summary>
public sealed class EndpointsTruncationTests
{
    [Fact]
    public void Up_to_the_cap_nothing_changes()
    {
        var subsets = new List<V1EndpointSubset> { Subset("10.0", ready: 900, notReady: 100) };

        Assert.False(EndpointsTruncation.Truncate(subsets));
        Assert.Equal((900, 100), (subsets[0].Addresses.Count, subsets[0].NotReadyAddresses.Count));
    }

    [Fact]
    public void Not_ready_addresses_go_first()
    {
        var subsets = new List<V1EndpointSubset> { Subset("10.0", ready: 990, notReady: 30) };

        Assert.True(EndpointsTruncation.Truncate(subsets));
        Assert.Equal((990, 10), (subsets[0].Addresses.Count, subsets[0].NotReadyAddresses.Count));
    }

    [Fact]
    public void Too_many_ready_addresses_drop_every_not_ready_one_and_share_the_cap_by_subset_size()
    {
        var subsets = new List<V1EndpointSubset> { Subset("10.0", ready: 800, notReady: 5), Subset("10.1", ready: 400, notReady: 5) };

        Assert.True(EndpointsTruncation.Truncate(subsets));

        // ceil(800 / 1200 × 1000) = 667, then what is left: 333.
        Assert.Equal([667, 333], subsets.Select(s => s.Addresses.Count));
        Assert.All(subsets, s => Assert.Null(s.NotReadyAddresses));
        Assert.Equal("10.0.0.0", subsets[0].Addresses[0].Ip);
    }

    private static V1EndpointSubset Subset(string prefix, int ready, int notReady) => new()
    {
        Addresses = [.. Enumerable.Range(0, ready).Select(i => Address(prefix, i))],
        NotReadyAddresses = [.. Enumerable.Range(ready, notReady).Select(i => Address(prefix, i))],
        Ports = [new Corev1EndpointPort { Port = 80 }],
    };

    private static V1EndpointAddress Address(string prefix, int i) => new() { Ip = $"{prefix}.{i / 256}.{i % 256}" };
}
