using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchboard.ApiServer.Allocation;
using Switchboard.ApiServer.Hosting;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Selectors;
using Switchboard.Kube.Selectors;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Allocation;

/// <summary>Repair passes run one by one against the registry: creates in progress are never robbed; conflicts become Warning events.</summary>
public sealed class RangeRepairTests : IAsyncLifetime
{
    private static readonly ClusterIpRange Range = ClusterIpRange.Parse("10.96.0.0/16");
    private readonly TempDirectory _dir = new("sb-range-repair-");
    private SqliteKeyValueStore? _store;
    private RegistryContext? _context;
    private ResourceCatalog? _catalog;
    private RangeAllocator? _allocator;
    private RangeRepair? _repair;

    private SqliteKeyValueStore Store => _store!;

    private ResourceCatalog Catalog => _catalog!;

    private RangeAllocator Allocator => _allocator!;

    private RangeRepair Repair => _repair!;

    public async Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(_dir.File("state.db"));
        _context = new RegistryContext(_store, new FakeTimeProvider(DateTimeOffset.UtcNow), new Random(1));
        _catalog = new ResourceCatalog(_context, new ApiServerOptions { DataDirectory = _dir.Path }, NullLoggerFactory.Instance);
        await _catalog.Namespaces.CreateAsync(null, new V1Namespace { Metadata = new V1ObjectMeta { Name = "default" } }, false, CancellationToken.None);

        // The allocator a create goes through, on the catalog's key; the repair over it as the server builds it.
        _allocator = new RangeAllocator(_store, "/registry/ranges/serviceips", Range.Text, Range.Size, Range.StaticOffset, new Random(2));
        var subject = RepairSubject.ClusterIps(Range);
        _repair = new RangeRepair(_allocator, _catalog.Services, subject, new EventRecorder(_catalog.Events, _context, subject.Component), NullLogger<RangeRepair>.Instance);
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_create_whose_object_lands_after_a_repair_pass_keeps_its_address()
    {
        int slot = Slot("10.96.5.5");
        Assert.True(await Allocator.TryAllocateAsync(slot, dryRun: false, CancellationToken.None));

        await Repair.RunOnceAsync(CancellationToken.None); // the object is not stored yet: only flagged
        bool heldWhileFlagged = await Allocator.IsAllocatedAsync(slot, CancellationToken.None);
        await StoreServiceAsync("late", "10.96.5.5");
        await Repair.RunOnceAsync(CancellationToken.None);
        await Repair.RunOnceAsync(CancellationToken.None);

        Assert.True(heldWhileFlagged);
        Assert.True(await Allocator.IsAllocatedAsync(slot, CancellationToken.None));
    }

    [Fact]
    public async Task An_address_released_and_taken_again_between_passes_is_flagged_afresh_not_released()
    {
        int slot = Slot("10.96.6.6");
        Assert.True(await Allocator.TryAllocateAsync(slot, dryRun: false, CancellationToken.None));
        await Repair.RunOnceAsync(CancellationToken.None); // flagged

        // That create failed and gave the address back; another create took it and has not stored its object yet.
        await Allocator.ReleaseAsync(slot, CancellationToken.None);
        Assert.True(await Allocator.TryAllocateAsync(slot, dryRun: false, CancellationToken.None));
        await Repair.RunOnceAsync(CancellationToken.None);
        bool keptForTheNewCreate = await Allocator.IsAllocatedAsync(slot, CancellationToken.None);

        // The new create never stored its object either: a whole interval unused, the next pass frees it.
        await Repair.RunOnceAsync(CancellationToken.None);

        Assert.True(keptForTheNewCreate);
        Assert.False(await Allocator.IsAllocatedAsync(slot, CancellationToken.None));
    }

    [Fact]
    public async Task A_shared_address_and_one_outside_the_range_are_warned_about_once_each_however_often_found()
    {
        var alpha = await Catalog.Services.CreateAsync("default", new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "alpha" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] },
        }, false, CancellationToken.None);
        await StoreServiceAsync("beta", alpha.Spec.ClusterIP);
        await StoreServiceAsync("gamma", "10.97.0.5");

        await Repair.RunOnceAsync(CancellationToken.None);
        await Repair.RunOnceAsync(CancellationToken.None);

        var events = (await Catalog.Events.ListAsync("default", LabelSelector.Everything, FieldSelector.Everything, 0, null, 0, CancellationToken.None)).Items;
        Assert.Equal(
            [
                ("beta", "ClusterIPAlreadyAllocated", $"Cluster IP [IPv4]:{alpha.Spec.ClusterIP} was assigned to multiple services; please recreate service", 2),
                ("gamma", "ClusterIPOutOfRange", "Cluster IP [IPv4]:10.97.0.5 is not within the configured Service CIDR 10.96.0.0/16; please recreate service", 2),
            ],
            events.Select(e => (e.InvolvedObject.Name, e.Reason, e.Message, e.Count ?? 0)).OrderBy(e => e.Name));
        Assert.All(events, e => Assert.Equal(("Warning", "ipallocator-repair-controller"), (e.Type, e.Source.Component)));
        Assert.True(await Allocator.IsAllocatedAsync(Slot(alpha.Spec.ClusterIP), CancellationToken.None));
    }

    private static int Slot(string ip) => Range.IndexOf(System.Net.IPAddress.Parse(ip))!.Value;

    /// <summary>Writes a Service object straight to the store, as a create's second write does (or an operator would).</summary>
    private async Task StoreServiceAsync(string name, string clusterIp)
    {
        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
            Spec = new V1ServiceSpec { ClusterIP = clusterIp, ClusterIPs = [clusterIp], Ports = [new V1ServicePort { Port = 80, Protocol = "TCP" }] },
        };
        await Store.CreateAsync($"/registry/services/default/{name}", ObjectCodec.Encode(service));
    }
}
