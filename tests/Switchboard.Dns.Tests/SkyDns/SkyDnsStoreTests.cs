using System.Net;
using System.Text;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Dns.Server;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Tests.Support;
using Switchboard.Storage;
using Switchboard.Testing;

namespace Switchboard.Dns.Tests.SkyDns;

/// <summary>The SkyDNS zone and the kube2sky mirror over a real store; run on SQLite and on a real etcd.</summary>
public abstract class SkyDnsStoreTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    /// <summary>A prefix of this test's own, so tests sharing one etcd never see each other's keys.</summary>
    protected string Prefix { get; } = $"/t{Guid.NewGuid():N}/skydns";

    protected IKeyValueStore Store { get; private set; } = null!;

    public async Task InitializeAsync() => Store = await OpenStoreAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        await Store.DisposeAsync();
        _stop.Dispose();
        await CloseAsync();
    }

    [Fact]
    public async Task The_zone_loads_what_is_stored_then_follows_puts_and_deletes_as_dig_sees()
    {
        await Store.PutAsync($"{Prefix}/local/skydns/web/a", Encoding.UTF8.GetBytes("""{"host":"10.0.0.1"}"""));
        var zone = new SkyDnsZone(new SkyDnsOptions { Prefix = Prefix }, TimeProvider.System);
        Run(new SkyDnsWatcher(Store, zone, Prefix, TimeProvider.System, NullLogger.Instance).RunAsync);
        var cluster = new TestCluster();
        await using DnsServer server = DnsServer.Start(cluster.Index, new DnsServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), UdpSockets = 1 }, TimeProvider.System, null, new DnsServerParts(SkyDns: zone));

        await Eventually.WaitAsync(async () => (await Dig.RunAsync(server.EndPoint, "web.skydns.local", "+short")).Trim() == "10.0.0.1", "the stored record served");
        await Store.PutAsync($"{Prefix}/local/skydns/web/b", Encoding.UTF8.GetBytes("""{"host":"10.0.0.2"}"""));
        await Eventually.WaitAsync(async () => Dig.Lines(await Dig.RunAsync(server.EndPoint, "web.skydns.local", "+short")).Length == 2, "a put record served");
        await Store.DeleteAsync($"{Prefix}/local/skydns/web/a");
        await Store.DeleteAsync($"{Prefix}/local/skydns/web/b");
        await Eventually.WaitAsync(async () => Dig.Status(await Dig.RunAsync(server.EndPoint, "web.skydns.local")) == "NXDOMAIN", "deleted records gone");
    }

    [Fact]
    public async Task The_mirror_writes_a_service_exactly_as_kube2sky_did()
    {
        SkyDnsServiceMirror mirror = StartMirror();

        mirror.Set(Service("critical-app", "backend", "10.3.0.116", ("http", "TCP", 80)));

        string path = $"{Prefix}/local/cluster/svc/critical-app/backend/";
        IReadOnlyList<KeyValue> leaves = await Eventually.StoreAsync(Store, path, kv => kv.Count == 2, "backend's two leaves");
        KeyValue address = Assert.Single(leaves, kv => kv.Key == path + "5c82f78b");
        Assert.Equal("""{"host":"10.3.0.116","priority":10,"weight":10,"ttl":30,"targetstrip":0}""", Encoding.UTF8.GetString(address.Value));
        KeyValue srv = Assert.Single(leaves, kv => kv.Key.StartsWith(path + "_tcp/_http/", StringComparison.Ordinal));
        Assert.Equal("""{"host":"backend.critical-app.svc.cluster.local","port":80,"priority":10,"weight":10,"ttl":30,"targetstrip":0}""", Encoding.UTF8.GetString(srv.Value));
    }

    [Fact]
    public async Task The_mirror_follows_changes_and_deletions_and_a_full_list_removes_services_that_are_gone()
    {
        await Store.PutAsync($"{Prefix}/local/cluster/svc/old/gone/1234", Encoding.UTF8.GetBytes("""{"host":"10.96.9.9"}"""));
        SkyDnsServiceMirror mirror = StartMirror();
        string root = $"{Prefix}/local/cluster/svc/";

        mirror.ReplaceAll([Service("default", "a", "10.96.0.1"), Service("default", "b", "10.96.0.2")], []);
        await Eventually.StoreAsync(Store, root, kv => Hosts(kv).SetEquals(["10.96.0.1", "10.96.0.2"]), "a and b written, the orphan removed");
        mirror.Set(Service("default", "a", "10.96.0.3"));
        mirror.Remove(Service("default", "b", "10.96.0.2"));
        IReadOnlyList<KeyValue> final = await Eventually.StoreAsync(Store, root, kv => Hosts(kv).SetEquals(["10.96.0.3"]), "a moved, b removed");

        Assert.All(final, kv => Assert.StartsWith(root + "default/a/", kv.Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_mirror_writes_a_headless_service_as_one_record_per_ready_endpoint()
    {
        SkyDnsServiceMirror mirror = StartMirror();
        string path = $"{Prefix}/local/cluster/svc/data/db/";

        mirror.Set(TestObjects.Headless("data", "db"));
        mirror.SetEndpointSlice(TestObjects.Slice("data", "db", "db-a", "IPv4", [TestObjects.Endpoint("10.244.0.5"), TestObjects.Endpoint("10.244.0.6", ready: false)]));
        mirror.SetEndpointSlice(TestObjects.Slice("data", "db", "db-b", "IPv4", [TestObjects.Endpoint("10.244.1.7")]));
        await Eventually.StoreAsync(Store, path, kv => Hosts(kv).SetEquals(["10.244.0.5", "10.244.1.7"]), "one leaf per ready endpoint, the not-ready one left out");

        mirror.RemoveEndpointSlice(TestObjects.Slice("data", "db", "db-b", "IPv4", []));
        await Eventually.StoreAsync(Store, path, kv => Hosts(kv).SetEquals(["10.244.0.5"]), "the removed slice's endpoint gone");
    }

    protected abstract Task<IKeyValueStore> OpenStoreAsync();

    protected virtual Task CloseAsync() => Task.CompletedTask;

    protected SkyDnsServiceMirror StartMirror()
    {
        var mirror = new SkyDnsServiceMirror(Store, Prefix, "cluster.local", TimeProvider.System, NullLogger.Instance);
        Run(mirror.RunAsync);
        return mirror;
    }

    protected static V1Service Service(string ns, string name, string ip, params (string? Name, string Protocol, int Port)[] ports) =>
        TestObjects.ClusterIp(ns, name, [ip], ports);

    private static HashSet<string> Hosts(IReadOnlyList<KeyValue> leaves) =>
        [.. leaves.Select(kv => SkyDnsRecord.TryParse(kv.Value)?.Host ?? string.Empty)];

    private void Run(Func<CancellationToken, Task> loop) => _loops.Add(Task.Run(() => loop(_stop.Token)));
}
