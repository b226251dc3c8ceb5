using Switchboard.Proxy.Model;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Model;

public sealed class ServiceCatalogTests
{
    private readonly ServiceCatalog _catalog = new();

    [Fact]
    public void Slices_join_their_service_by_label_in_either_order()
    {
        _catalog.SetSlice(Slice("ns", "web", "http", 8080, Ready("10.244.0.3")));
        _catalog.SetService(Service("ns", "web", "10.96.0.20", Port("http", 80)));
        _catalog.SetSlice(Slice("other", "web", "http", 8080, Ready("10.244.9.9")));

        var port = Assert.Single(_catalog.Snapshot());
        Assert.Equal(["10.244.0.3:8080"], port.Endpoints.Select(e => e.Address));
    }

    [Fact]
    public void Only_changed_services_get_new_states()
    {
        _catalog.SetService(Service("ns", "a", "10.96.0.20", Port("http", 80)));
        _catalog.SetService(Service("ns", "b", "10.96.0.21", Port("http", 80)));
        var before = _catalog.Snapshot();

        _catalog.SetSlice(Slice("ns", "b", "http", 8080, Ready("10.244.0.3")));
        Assert.Equal(1, _catalog.PendingChanges);
        var after = _catalog.Snapshot();

        Assert.Same(before[0], after[0]);
        Assert.NotSame(before[1], after[1]);
        Assert.True(after[1].HasEndpoints);
        Assert.Equal(0, _catalog.PendingChanges);
    }

    [Fact]
    public void Deleting_the_last_slice_leaves_no_endpoints_and_deleting_the_service_removes_it()
    {
        var service = Service("ns", "web", "10.96.0.20", Port("http", 80));
        var slice = Slice("ns", "web", "http", 8080, Ready("10.244.0.3"));
        _catalog.SetService(service);
        _catalog.SetSlice(slice);
        Assert.True(Assert.Single(_catalog.Snapshot()).HasEndpoints);

        _catalog.DeleteSlice(slice);
        Assert.False(Assert.Single(_catalog.Snapshot()).HasEndpoints);

        _catalog.DeleteService(service);
        Assert.Empty(_catalog.Snapshot());
    }

    [Fact]
    public void Slices_without_a_service_label_are_ignored()
    {
        var slice = Slice("ns", "web", "http", 8080, Ready("10.244.0.3"));
        slice.Metadata.Labels.Clear();
        _catalog.SetSlice(slice);

        Assert.Equal(0, _catalog.PendingChanges);
    }

    [Fact]
    public void A_snapshot_hands_over_the_trigger_times_of_the_slice_writes_it_includes()
    {
        _catalog.SetService(Service("ns", "web", "10.96.0.20", Port("http", 80)));
        var slice = Slice("ns", "web", "http", 8080, Ready("10.244.0.3"));
        slice.Metadata.Annotations = new Dictionary<string, string> { ["endpoints.kubernetes.io/last-change-trigger-time"] = "2026-01-02T03:04:05Z" };
        _catalog.SetSlice(slice);
        var times = new List<DateTimeOffset>();

        _catalog.Snapshot(times);
        Assert.Equal([new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)], times);

        _catalog.DeleteSlice(slice);
        _catalog.Snapshot(times);
        Assert.Single(times);
    }
}
