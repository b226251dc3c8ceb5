using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Switchboard.ApiServer.Allocation;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Allocation;

/// <summary>
/// A crash between a create's two writes (the bitmap, then the object) leaves an address and a node port held by
/// nothing; a lost bitmap write leaves a used address unrecorded. After a restart the repair marks the used one at
/// once, and releases the leaked ones one repair interval later (a fake clock drives the interval), never one in use.
/// </summary>
public sealed class AllocationRepairRestartTests : IAsyncLifetime
{
    private const string IpsKey = "/registry/ranges/serviceips";
    private const string PortsKey = "/registry/ranges/servicenodeports";
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(3);
    private static readonly ClusterIpRange Range = ClusterIpRange.Parse("10.96.0.0/16");
    private readonly TempDirectory _dir = new("sb-repair-");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow); // the serving certificate is dated by it
    private SqliteKeyValueStore? _store;
    private ComponentTestHost? _host;

    private SqliteKeyValueStore Store => _store!;

    public Task InitializeAsync() => StartAsync();

    public async Task DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task After_a_restart_a_leaked_ip_and_port_are_freed_one_interval_later_and_an_unrecorded_ip_is_marked_at_once()
    {
        V1Service alpha, beta;
        using (var client = NewClient())
        {
            alpha = await client.CoreV1.CreateNamespacedServiceAsync(NodePortService("alpha", null, null), "default");
            beta = await client.CoreV1.CreateNamespacedServiceAsync(NodePortService("beta", null, null), "default");
        }

        await StopAsync();
        // What a crash leaves behind: a create that took 10.96.3.3 and node port 31333 but never stored its object,
        // and alpha's address missing from the bitmap.
        const string LeakedIp = "10.96.3.3";
        const int LeakedPort = 31333;
        await using (var store = SqliteKeyValueStore.Open(_dir.File("state.db")))
        {
            var ips = new RangeAllocator(store, IpsKey, Range.Text, Range.Size, Range.StaticOffset, new Random(1));
            var ports = new RangeAllocator(store, PortsKey, "30000-32767", 2768, 86, new Random(1));
            Assert.True(await ips.TryAllocateAsync(Slot(LeakedIp), dryRun: false, CancellationToken.None));
            Assert.True(await ports.TryAllocateAsync(LeakedPort - 30000, dryRun: false, CancellationToken.None));
            await ips.ReleaseAsync(Slot(alpha.Spec.ClusterIP), CancellationToken.None);
        }

        await StartAsync();
        using (var client = NewClient())
        {
            // Right after the start-up repair: alpha's address is recorded again, the leaked ones are still held.
            await AssertTakenAsync(client, "taken-alpha-ip", alpha.Spec.ClusterIP, null);
            await AssertTakenAsync(client, "taken-leaked-ip", LeakedIp, null);
            await AssertTakenAsync(client, "taken-leaked-port", null, LeakedPort);
            var warning = Assert.Single((await client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: "involvedObject.name=alpha")).Items);
            Assert.Equal(("Warning", "ClusterIPNotAllocated", $"Cluster IP [IPv4]:{alpha.Spec.ClusterIP} is not allocated; repairing"), (warning.Type, warning.Reason, warning.Message));

            // One interval on, the next repair frees them (it rewrites both bitmaps).
            long revision = await Store.GetRevisionAsync();
            await using var bitmaps = Store.WatchAsync("/registry/ranges/", revision).GetAsyncEnumerator();
            _time.Advance(Interval);
            var rewritten = new HashSet<string>();
            while (rewritten.Count < 2)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                Assert.True(await bitmaps.MoveNextAsync().AsTask().WaitAsync(deadline.Token), "awaited the repair's bitmap writes");
                rewritten.Add(bitmaps.Current.Current.Key);
            }

            var gamma = await client.CoreV1.CreateNamespacedServiceAsync(NodePortService("gamma", LeakedIp, LeakedPort), "default");
            Assert.Equal((LeakedIp, LeakedPort), (gamma.Spec.ClusterIP, gamma.Spec.Ports[0].NodePort));

            // Nothing in use was released: every service's address and port is still taken.
            foreach (var service in new[] { alpha, beta })
            {
                await AssertTakenAsync(client, $"again-{service.Metadata.Name}-ip", service.Spec.ClusterIP, null);
                await AssertTakenAsync(client, $"again-{service.Metadata.Name}-port", null, service.Spec.Ports[0].NodePort);
            }

            await AssertTakenAsync(client, "again-kubernetes", "10.96.0.1", null);
            var all = (await client.CoreV1.ListServiceForAllNamespacesAsync()).Items;
            Assert.Equal(all.Count, all.Select(s => s.Spec.ClusterIP).Distinct().Count());
        }
    }

    private static int Slot(string ip) => Range.IndexOf(IPAddress.Parse(ip))!.Value;

    private static V1Service NodePortService(string name, string? clusterIp, int? nodePort) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ServiceSpec { Type = "NodePort", ClusterIP = clusterIp, Ports = [new V1ServicePort { Port = 80, NodePort = nodePort }] },
    };

    /// <summary>Asks for the address or node port explicitly: 422 "already allocated" while it is held.</summary>
    private static async Task AssertTakenAsync(Kubernetes client, string name, string? clusterIp, int? nodePort)
    {
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedServiceAsync(NodePortService(name, clusterIp, nodePort), "default"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);
        Assert.Contains("already allocated", refused.Response.Content, StringComparison.Ordinal);
    }

    private Kubernetes NewClient() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(_host!.Get<ApiServerService>().KubeconfigPath));

    private async Task StartAsync()
    {
        var store = _store = SqliteKeyValueStore.Open(_dir.File("state.db"));
        _host = await ComponentTestHost.StartAsync(services => services.AddApiServer(new ApiServerOptions { DataDirectory = _dir.Path, Port = 0, AllocationRepairInterval = Interval }, store), _time);
    }

    private async Task StopAsync()
    {
        await ServerAndStore.StopAsync(_host, _store);
        _host = null;
        _store = null;
    }
}
