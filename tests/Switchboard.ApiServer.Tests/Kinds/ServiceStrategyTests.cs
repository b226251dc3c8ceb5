using System.Net;
using k8s.Models;
using Switchboard.ApiServer.Allocation;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Kinds;
using Switchboard.ApiServer.Registry;
using Switchboard.Storage;
using Switchboard.Storage.Sqlite;

namespace Switchboard.ApiServer.Tests.Kinds;

/// <summary>A Service's upstream defaults, its validation and its ClusterIP and NodePort allocation, on allocators over a real store.</summary>
public sealed class ServiceStrategyTests : IAsyncLifetime
{
    private static readonly ClusterIpRange Range = ClusterIpRange.Parse("10.96.0.0/24");
    private readonly string _dir = Directory.CreateTempSubdirectory("sb-service-strategy-").FullName;
    private const string IpsKey = "/registry/ranges/serviceips";
    private SqliteKeyValueStore? _store;
    private RangeAllocator? _clusterIps;
    private ServiceStrategy? _strategy;

    private ServiceStrategy Strategy => _strategy!;

    private SqliteKeyValueStore Store => _store!;

    public Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(Path.Combine(_dir, "state.db"));
        _clusterIps = new RangeAllocator(_store, IpsKey, Range.Text, Range.Size, Range.StaticOffset, new Random(1));
        var nodePorts = new RangeAllocator(_store, "/registry/ranges/servicenodeports", "30000-30009", 10, 0, new Random(2));
        _strategy = new ServiceStrategy(Range, _clusterIps, nodePorts, 30000);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store!.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Defaults_fill_type_affinity_policies_protocol_and_target_port()
    {
        var service = Service(new V1ServicePort { Port = 80 });

        Strategy.Default(service);

        var spec = service.Spec;
        Assert.Equal(("ClusterIP", "None", "Cluster", null), (spec.Type, spec.SessionAffinity, spec.InternalTrafficPolicy, spec.ExternalTrafficPolicy));
        Assert.Equal(("TCP", "80"), (spec.Ports[0].Protocol, spec.Ports[0].TargetPort.Value));
        Assert.NotNull(service.Status?.LoadBalancer);
    }

    [Fact]
    public void A_node_port_service_defaults_its_external_policy_and_client_ip_affinity_its_timeout()
    {
        var service = Service(new V1ServicePort { Port = 80, TargetPort = 8080 });
        service.Spec.Type = "NodePort";
        service.Spec.SessionAffinity = "ClientIP";

        Strategy.Default(service);

        Assert.Equal(("Cluster", 10800), (service.Spec.ExternalTrafficPolicy, service.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds));
        Assert.Equal("8080", service.Spec.Ports[0].TargetPort.Value);
    }

    [Fact]
    public void Validation_names_each_wrong_field_as_upstream()
    {
        var service = Service();
        service.Spec.Type = "Gateway";
        Strategy.Default(service);

        var errors = Strategy.Validate(service).Select(e => e.ToString()).ToList();

        Assert.Equal(
            [
                "spec.type: Unsupported value: \"Gateway\": supported values: \"ClusterIP\", \"NodePort\", \"LoadBalancer\", \"ExternalName\"",
                "spec.ports: Required value",
            ],
            errors);
    }

    [Fact]
    public void A_headless_node_port_service_and_a_node_port_out_of_range_are_invalid()
    {
        var service = Service(new V1ServicePort { Port = 80, NodePort = 31000 });
        service.Spec.Type = "NodePort";
        service.Spec.ClusterIP = "None";
        Strategy.Default(service);

        var errors = Strategy.Validate(service).Select(e => e.ToString()).ToList();

        Assert.Contains("spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services", errors);
        Assert.Contains("spec.ports[0].nodePort: Invalid value: 31000: provided port is not in the valid range. The range of valid ports is 30000-30009", errors);
    }

    [Fact]
    public async Task Create_allocates_a_cluster_ip_in_the_range_and_a_node_port_per_port()
    {
        var service = Service(new V1ServicePort { Name = "http", Port = 80 }, new V1ServicePort { Name = "https", Port = 443 });
        service.Spec.Type = "NodePort";
        Strategy.Default(service);

        await Strategy.PrepareCreateAsync(service, dryRun: false, CancellationToken.None);
        await Strategy.StoreCreateAsync(Store, KeyOf("web"), service, CancellationToken.None);

        Assert.NotNull(Range.IndexOf(IPAddress.Parse(service.Spec.ClusterIP)));
        Assert.Equal([service.Spec.ClusterIP], service.Spec.ClusterIPs);
        Assert.All(service.Spec.Ports, p => Assert.InRange(p.NodePort ?? 0, 30000, 30009));
        Assert.NotEqual(service.Spec.Ports[0].NodePort, service.Spec.Ports[1].NodePort);
    }

    [Fact]
    public async Task A_requested_cluster_ip_is_taken_once_and_then_refused()
    {
        var first = Service(new V1ServicePort { Port = 80 });
        first.Spec.ClusterIP = "10.96.0.7";
        var second = Service("other", new V1ServicePort { Port = 80 });
        second.Spec.ClusterIP = "10.96.0.7";
        Strategy.Default(first);
        Strategy.Default(second);

        await Strategy.PrepareCreateAsync(first, dryRun: false, CancellationToken.None);
        await Strategy.StoreCreateAsync(Store, KeyOf("web"), first, CancellationToken.None);
        await Strategy.PrepareCreateAsync(second, dryRun: false, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ApiException>(() => Strategy.StoreCreateAsync(Store, KeyOf("other"), second, CancellationToken.None));

        Assert.Equal("10.96.0.7", first.Spec.ClusterIP);
        Assert.Equal((422, "Invalid"), (refused.Code, refused.Status.Reason));
        Assert.Contains("provided IP is already allocated", refused.Message, StringComparison.Ordinal);
        Assert.Null(await Store.GetAsync(KeyOf("other")));
    }

    [Fact]
    public async Task A_service_and_its_cluster_ip_share_one_mod_revision_and_its_delete_releases_the_ip_in_the_same_revision()
    {
        var service = Service(new V1ServicePort { Port = 80 });
        Strategy.Default(service);
        await Strategy.PrepareCreateAsync(service, dryRun: false, CancellationToken.None);

        var created = await Strategy.StoreCreateAsync(Store, KeyOf("web"), service, CancellationToken.None);

        var allocation = (await Store.GetAsync(IpsKey))!;
        Assert.Equal(created.ModRevision, allocation.ModRevision);
        int slot = Range.IndexOf(IPAddress.Parse(service.Spec.ClusterIP))!.Value;
        Assert.True(await _clusterIps!.IsAllocatedAsync(slot, CancellationToken.None));

        var deleted = await Strategy.StoreDeleteAsync(Store, KeyOf("web"), service, created.ModRevision, CancellationToken.None);

        Assert.Equal(deleted.Revision, (await Store.GetAsync(IpsKey))!.ModRevision);
        Assert.Null(await Store.GetAsync(KeyOf("web")));
        Assert.False(await _clusterIps.IsAllocatedAsync(slot, CancellationToken.None));
    }

    [Fact]
    public async Task Racing_creates_each_take_one_ip_with_their_service_and_a_name_taken_twice_takes_none()
    {
        var services = Enumerable.Range(0, 20).Select(i => Service($"web-{i}", new V1ServicePort { Port = 80 })).Append(Service("web-0", new V1ServicePort { Port = 80 })).ToList();
        foreach (var service in services)
        {
            Strategy.Default(service);
            await Strategy.PrepareCreateAsync(service, dryRun: false, CancellationToken.None);
        }

        var outcomes = await Task.WhenAll(services.Select(service => Task.Run(async () =>
        {
            try
            {
                return await Strategy.StoreCreateAsync(Store, KeyOf(service.Metadata.Name), service, CancellationToken.None);
            }
            catch (StorageException e) when (e.Error == StorageError.KeyExists)
            {
                return null;
            }
        })));

        Assert.Equal(20, outcomes.Count(o => o is not null));
        var stored = (await Store.RangeAsync("/registry/services/specs/", new RangeOptions())).Items;
        var slots = stored.Select(kv => Range.IndexOf(IPAddress.Parse(ObjectCodec.Decode<V1Service>(kv).Spec.ClusterIP))!.Value).ToList();
        Assert.Equal(20, slots.Distinct().Count());
        var snapshot = await _clusterIps!.SnapshotAsync(CancellationToken.None);
        Assert.Equal(slots.Order(), Enumerable.Range(0, Range.Size).Where(i => RangeAllocator.IsSet(snapshot.Bitmap, i)));
    }

    private static string KeyOf(string name) => $"/registry/services/specs/default/{name}";

    private static V1Service Service(params V1ServicePort[] ports) => Service("web", ports);

    private static V1Service Service(string name, params V1ServicePort[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ServiceSpec { Ports = ports.Length == 0 ? null : [.. ports] },
    };
}
