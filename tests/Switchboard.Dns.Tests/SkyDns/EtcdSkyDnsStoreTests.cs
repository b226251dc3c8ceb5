using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Tests.Support;
using Switchboard.Storage;
using Switchboard.Storage.Tests.Etcd;

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

    private async Task<string> EtcdctlAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ETCDCTL_API"] = "3";
        start.ArgumentList.Add("--endpoints=" + etcd.Members[0].ClientUrl);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);
        Assert.True(process.ExitCode == 0, $"etcdctl failed: {error}");
        return await output;
    }
}
