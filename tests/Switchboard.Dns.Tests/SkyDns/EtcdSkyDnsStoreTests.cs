using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Dns.SkyDns;
using Switchboard.Storage;
using Switchboard.Testing;

namespace Switchboard.Dns.Tests.SkyDns;

public sealed class EtcdSkyDnsStoreTests(EtcdCluster etcd) : SkyDnsStoreTests, IClassFixture<EtcdCluster>
{
    [Fact]
    public async Task Etcdctl_shows_the_mirrored_service_as_the_seed_does()
    {
        var mirror = new SkyDnsServiceMirror(Store, "/skydns", "cluster.local", TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        Task loop = mirror.RunAsync(stop.Token);
        mirror.Set(Service("critical-app", "backend", "10.3.0.116"));
        await Eventually.StoreAsync(Store, "/skydns/local/cluster/svc/critical-app/backend/", kv => kv.Count == 1, "backend mirrored");
        await stop.CancelAsync();
        await loop;

        string output = await EtcdctlAsync("get", "/skydns/local/cluster/svc/critical-app/backend", "--prefix");

        Assert.Equal(
            ["/skydns/local/cluster/svc/critical-app/backend/5c82f78b", """{"host":"10.3.0.116","priority":10,"weight":10,"ttl":30,"targetstrip":0}"""],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    protected override Task<IKeyValueStore> OpenStoreAsync() => Task.FromResult<IKeyValueStore>(etcd.OpenStore());

    private async Task<string> EtcdctlAsync(params string[] arguments) =>
        (await ChildProcess.RunAsync("/usr/bin/etcdctl", ["--endpoints=" + etcd.Members[0].ClientUrl, .. arguments], new Dictionary<string, string> { ["ETCDCTL_API"] = "3" }))
            .EnsureSuccess("etcdctl " + string.Join(' ', arguments)).Stdout;
}
