using System.Collections.Concurrent;
using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Kube.Informers;
using Switchboard.Storage;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Behaviour;

/// <summary>
/// A watch of a collection nobody writes, while another collection is written and the store compacted past everything
/// the first watch was ever sent: its bookmarks carry the store's progress, so the watch (and an informer) resumes from
/// there instead of meeting 410 Gone and listing everything again.
/// </summary>
public abstract class QuietWatchTests : IAsyncLifetime
{
    private static readonly TimeSpan BookmarkInterval = TimeSpan.FromMilliseconds(400);
    private readonly TempDirectory _dir = new("sb-quiet-watch-");

    // Names of this test's objects: the etcd of a class outlives its tests.
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private IKeyValueStore? _store;
    private ComponentTestHost? _host;

    private ApiServerService Server => _host!.Get<ApiServerService>();

    private IKeyValueStore Store => _store!;

    public async Task InitializeAsync()
    {
        var store = _store = OpenStore(_dir);
        _host = await ComponentTestHost.StartAsync(services => services.AddApiServer(new ApiServerOptions { DataDirectory = _dir.Path, Port = 0, WatchBookmarkInterval = BookmarkInterval }, store));
    }

    public async Task DisposeAsync()
    {
        await ServerAndStore.StopAsync(_host, _store);
        _dir.Dispose();
    }

    [Fact]
    public async Task Bookmarks_of_a_quiet_watch_follow_the_store_and_a_watch_resumed_from_them_outlives_compaction()
    {
        using var client = NewClient();
        var list = await client.CoreV1.ListNamespacedConfigMapAsync("default");
        string path = "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=";
        using var quiet = await WatchStream.OpenAsync(Server, path + list.Metadata.ResourceVersion);
        long written = await WriteElsewhereAsync(client);
        await Store.CompactAsync(written);

        var seen = new List<(string Type, long Revision)>();
        using (var deadline = new CancellationTokenSource(Eventually.DefaultTimeout))
        {
            while (seen.Count == 0 || seen[^1].Revision < written)
            {
                Assert.False(deadline.IsCancellationRequested, $"no bookmark reached revision {written}: {string.Join(", ", seen.TakeLast(3))}");
                seen.Add(await NextAsync(quiet));
            }
        }

        Assert.All(seen, e => Assert.Equal("BOOKMARK", e.Type));
        Assert.Equal(seen.Select(e => e.Revision).Order(), seen.Select(e => e.Revision));

        using var resumed = await WatchStream.OpenAsync(Server, path + seen[^1].Revision.ToString(CultureInfo.InvariantCulture));
        var created = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after-compaction-" + _id } }, "default");
        long createdAt = long.Parse(created.Metadata.ResourceVersion, CultureInfo.InvariantCulture);
        Assert.Equal(("ADDED", createdAt), await NextChangeAsync(resumed));
        Assert.Equal(("ADDED", createdAt), await NextChangeAsync(quiet));
    }

    [Fact]
    public async Task An_informer_of_a_quiet_kind_rewatches_past_compaction_without_listing_again()
    {
        using var client = NewClient();
        var source = ListWatches.ConfigMaps(client);
        var watchedFrom = new ConcurrentQueue<long>();
        var counted = new ListWatch<V1ConfigMap>(source.List, (rv, timeout, onError, ct) =>
        {
            watchedFrom.Enqueue(Revision(rv));
            return source.Watch(rv, timeout, onError, ct);
        });

        // Each watch lasts a second, so the informer watches again, from its last resourceVersion, every second.
        var informer = new Informer<V1ConfigMap>(counted, NullLogger.Instance, options: new InformerOptions { WatchTimeoutSeconds = 1 });
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);
        try
        {
            await informer.WaitForSyncAsync(CancellationToken.None);
            long written = await WriteElsewhereAsync(client);

            // As the store compacts to where it was an interval ago: here, once the informer's bookmarks got there.
            await Eventually.WaitAsync(() => Revision(informer.ResourceVersion) >= written, $"the informer's resourceVersion to reach {written}");
            await Store.CompactAsync(written);
            int before = watchedFrom.Count;
            await Eventually.WaitAsync(() => watchedFrom.Count > before + 1, "the informer to watch again after the compaction");
            string name = "seen-" + _id;
            var created = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name } }, "default");
            await Eventually.WaitAsync(() => informer.Cache.List().Any(c => c.Metadata.Name == name), "the informer to see the configmap created after compaction");

            Assert.Equal(1, informer.ListCount);
            Assert.All(watchedFrom.Skip(before), rv => Assert.True(rv >= written, $"watched again from {rv}, before the compacted {written}"));
            Assert.Equal(created.Metadata.ResourceVersion, informer.Cache.List().Single(c => c.Metadata.Name == name).Metadata.ResourceVersion);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    /// <summary>Opens the store the server runs on; the test disposes it.</summary>
    protected abstract IKeyValueStore OpenStore(TempDirectory dir);

    /// <summary>Writes to a kind nobody here watches; returns the revision of the last write.</summary>
    private async Task<long> WriteElsewhereAsync(Kubernetes client)
    {
        V1Secret? last = null;
        for (int i = 0; i < 20; i++)
        {
            last = await client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = $"elsewhere-{_id}-{i}" } }, "default");
        }

        return long.Parse(last!.Metadata.ResourceVersion, CultureInfo.InvariantCulture);
    }

    private static long Revision(string? resourceVersion) => long.Parse(resourceVersion ?? "0", CultureInfo.InvariantCulture);

    private static async Task<(string Type, long Revision)> NextAsync(WatchStream events)
    {
        var (type, obj) = await events.NextAsync() ?? throw new InvalidOperationException("the watch ended");
        return (type, Revision(obj["metadata"]?["resourceVersion"]?.GetValue<string>()));
    }

    /// <summary>The next event that is not a bookmark (an ERROR is returned as it is).</summary>
    private static async Task<(string Type, long Revision)> NextChangeAsync(WatchStream events)
    {
        while (true)
        {
            var next = await NextAsync(events);
            if (next.Type != "BOOKMARK")
            {
                return next;
            }
        }
    }

    private Kubernetes NewClient() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(Server.KubeconfigPath));
}

/// <summary>The quiet watch on the embedded store.</summary>
public sealed class SqliteQuietWatchTests : QuietWatchTests
{
    protected override IKeyValueStore OpenStore(TempDirectory dir) => SqliteKeyValueStore.Open(dir.File("state.db"));
}

/// <summary>The quiet watch on a real etcd, whose progress the store asks for.</summary>
public sealed class EtcdQuietWatchTests(EtcdCluster etcd) : QuietWatchTests, IClassFixture<EtcdCluster>
{
    protected override IKeyValueStore OpenStore(TempDirectory dir) => etcd.OpenStore();
}
