using Switchboard.Testing;
using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Serialization;

namespace Switchboard.Kube.Tests.Informers;

public sealed class InformerTests : IClassFixture<InProcessApiServer>, IAsyncLifetime
{
    private readonly InProcessApiServer _server;
    private readonly string _ns = "inf-" + Guid.NewGuid().ToString("N")[..8];
    private readonly CancellationTokenSource _stop = new();

    public InformerTests(InProcessApiServer server) => _server = server;

    private IKubernetes Client => _server.Client;

    public async Task InitializeAsync() =>
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = _ns } });

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _stop.Dispose();
    }

    [Fact]
    public async Task Lists_then_delivers_adds_updates_and_deletes_in_order_with_the_cache_already_updated()
    {
        await CreatePodAsync("before");
        var informer = new Informer<V1Pod>(ListWatches.Pods(Client), NullLogger.Instance);
        var seen = new ConcurrentQueue<string>();
        informer.AddHandler(
            p => seen.Enqueue($"add {p.Metadata.Name} cached={informer.Cache.Get(p.Metadata.NamespaceProperty, p.Metadata.Name) is not null}"),
            (_, p) => seen.Enqueue($"update {p.Metadata.Name} {(p.Metadata.Labels?.TryGetValue("v", out string? v) == true ? v : "")}"),
            p => seen.Enqueue($"delete {p.Metadata.Name} cached={informer.Cache.Get(p.Metadata.NamespaceProperty, p.Metadata.Name) is not null}"));
        var run = informer.RunAsync(_stop.Token);

        await informer.WaitForSyncAsync(_stop.Token);
        Assert.True(informer.HasSynced);
        Assert.Contains("add before cached=True", seen);

        await CreatePodAsync("after");
        var patch = new V1Patch("{\"metadata\":{\"labels\":{\"v\":\"2\"}}}", V1Patch.PatchType.MergePatch);
        await Client.CoreV1.PatchNamespacedPodAsync(patch, "after", _ns);
        await Client.CoreV1.DeleteNamespacedPodAsync("after", _ns);

        string[] expected = ["add after cached=True", "update after 2", "delete after cached=False"];
        await Eventually.WaitAsync(() => seen.Count(s => s.Contains("after", StringComparison.Ordinal)) == 3, "three events for pod 'after'");
        Assert.Equal(expected, seen.Where(s => s.Contains("after", StringComparison.Ordinal)));
        Assert.Equal(["before"], informer.Cache.InNamespace(_ns).Select(p => p.Metadata.Name));
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Custom_indexes_find_objects_by_a_derived_value_and_follow_changes()
    {
        var informer = new Informer<V1Pod>(ListWatches.Pods(Client), NullLogger.Instance);
        informer.Cache.AddIndex("app", p => p.Metadata.Labels?.TryGetValue("app", out string? app) == true ? [app] : []);
        var run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(_stop.Token);

        await CreatePodAsync("one", app: "red");
        await CreatePodAsync("two", app: "red");
        await Eventually.WaitAsync(() => informer.Cache.ByIndex("app", "red").Count == 2, "two pods indexed under app=red");

        var patch = new V1Patch("{\"metadata\":{\"labels\":{\"app\":\"blue\"}}}", V1Patch.PatchType.MergePatch);
        await Client.CoreV1.PatchNamespacedPodAsync(patch, "two", _ns);
        await Eventually.WaitAsync(() => informer.Cache.ByIndex("app", "blue").Count == 1, "pod two moved to app=blue");
        Assert.Equal(["one"], informer.Cache.ByIndex("app", "red").Select(p => p.Metadata.Name));

        // An index value that finds one object and one that found two both empty when their objects go.
        await Client.CoreV1.DeleteNamespacedPodAsync("two", _ns);
        await Client.CoreV1.DeleteNamespacedPodAsync("one", _ns);
        await Eventually.WaitAsync(() => informer.Cache.Get(_ns, "one") is null && informer.Cache.Get(_ns, "two") is null, "both pods gone from the cache");
        Assert.Empty(informer.Cache.ByIndex("app", "blue"));
        Assert.Empty(informer.Cache.ByIndex("app", "red"));
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_watch_from_a_compacted_version_gets_410_and_the_informer_lists_again()
    {
        await CreatePodAsync("old");

        // The first list claims a version that the store has compacted away, so the watch from it is 410 Gone.
        long revision = await _server.Store.GetRevisionAsync();
        await _server.Store.CompactAsync(revision);
        var real = ListWatches.Pods(Client);
        int lists = 0;
        var source = new ListWatch<V1Pod>(
            async ct =>
            {
                var page = await real.List(ct);
                return Interlocked.Increment(ref lists) == 1 ? page with { ResourceVersion = "1" } : page;
            },
            real.Watch);
        var informer = new Informer<V1Pod>(source, NullLogger.Instance);
        V1Pod? added = null;
        informer.AddHandler(onAdd: p => added = p.Metadata.Name == "old" ? p : added);
        var run = informer.RunAsync(_stop.Token);

        await Eventually.WaitAsync(() => informer.ListCount == 2, "a second list after 410 Gone");
        await CreatePodAsync("new");
        await Eventually.WaitAsync(() => informer.Cache.Get(_ns, "new") is not null, "the watch after the re-list delivers new pods");

        // Unchanged by the re-list: still the object the handlers were given, not a second copy of it.
        Assert.NotNull(added);
        Assert.Same(added, informer.Cache.Get(_ns, "old"));
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_failed_watch_is_retried_from_the_last_version_without_losing_events()
    {
        var real = ListWatches.Pods(Client);
        int watches = 0;
        var source = new ListWatch<V1Pod>(real.List, (rv, timeout, onError, ct) =>
            Interlocked.Increment(ref watches) == 1 ? Failing(rv) : real.Watch(rv, timeout, onError, ct));
        var informer = new Informer<V1Pod>(source, NullLogger.Instance);
        var run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(_stop.Token);

        await CreatePodAsync("during-outage");

        await Eventually.WaitAsync(() => informer.Cache.Get(_ns, "during-outage") is not null, "pod created while the watch was down");
        Assert.True(watches >= 2, $"watch retried ({watches} watch calls)");
        Assert.Equal(1, informer.ListCount);
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Resync_hands_every_cached_object_to_the_update_handlers_again_once_per_period()
    {
        await CreatePodAsync("steady");
        var period = TimeSpan.FromMinutes(10);
        var time = new FakeTimeProvider();
        var informer = new Informer<V1Pod>(ListWatches.Pods(Client), NullLogger.Instance, time, new InformerOptions { ResyncPeriod = period });
        var resynced = new ConcurrentQueue<string>();
        informer.AddHandler(onUpdate: (old, current) =>
        {
            if (ReferenceEquals(old, current))
            {
                resynced.Enqueue(current.Metadata.Name);
            }
        });
        var run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(_stop.Token);

        // The resync timer started with RunAsync, on the fake clock: nothing is handed out again until a period has passed.
        time.Advance(period - TimeSpan.FromSeconds(1));
        Assert.Empty(resynced);
        time.Advance(TimeSpan.FromSeconds(1));

        await Eventually.WaitAsync(() => resynced.Contains("steady"), "a resync update for the unchanged pod");
        Assert.Single(resynced, name => name == "steady");
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_handler_added_after_sync_gets_the_cached_objects_as_adds()
    {
        await CreatePodAsync("existing");
        var informer = new Informer<V1Pod>(ListWatches.Pods(Client), NullLogger.Instance);
        var run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(_stop.Token);

        var added = new ConcurrentBag<string>();
        informer.AddHandler(onAdd: p => added.Add(p.Metadata.Name));

        Assert.Contains("existing", added);
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Cached_objects_have_no_managed_fields_and_writing_one_back_keeps_the_stored_ones()
    {
        await CreatePodAsync("listed");
        var informer = new Informer<V1Pod>(ListWatches.Pods(Client), NullLogger.Instance);
        var run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(_stop.Token);
        await CreatePodAsync("watched");
        await Eventually.WaitAsync(() => informer.Cache.Get(_ns, "watched") is not null, "the watched pod in the cache");

        foreach (string name in new[] { "listed", "watched" })
        {
            Assert.NotEmpty((await Client.CoreV1.ReadNamespacedPodAsync(name, _ns)).Metadata.ManagedFields);
            Assert.Null(informer.Cache.Get(_ns, name)!.Metadata.ManagedFields);
        }

        // A controller updates from its cached copy: the server keeps the fields' managers, as kube-apiserver does.
        var cached = informer.Cache.Get(_ns, "listed")!;
        var updated = ModelJson.Clone(cached);
        updated.Metadata.Labels["app"] = "changed";
        await Client.CoreV1.ReplaceNamespacedPodAsync(updated, "listed", _ns);
        var stored = await Client.CoreV1.ReadNamespacedPodAsync("listed", _ns);
        Assert.Equal("changed", stored.Metadata.Labels["app"]);
        Assert.NotEmpty(stored.Metadata.ManagedFields);
        await _stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Cached_services_listed_and_watched_share_one_instance_of_their_repeated_strings()
    {
        await CreateServiceAsync("listed");
        var informer = new Informer<V1Service>(ListWatches.Services(Client), NullLogger.Instance);
        var run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(_stop.Token);
        await CreateServiceAsync("watched");
        await Eventually.WaitAsync(() => informer.Cache.Get(_ns, "watched") is not null, "the watched service in the cache");

        // Each object comes from JSON of its own; the cache keeps one instance of the strings they repeat.
        V1Service listed = informer.Cache.Get(_ns, "listed")!, watched = informer.Cache.Get(_ns, "watched")!;
        Assert.Same(listed.Metadata.NamespaceProperty, watched.Metadata.NamespaceProperty);
        Assert.Same(listed.ApiVersion, watched.ApiVersion);
        Assert.Same(listed.Kind, watched.Kind);
        Assert.Same(listed.Spec.Type, watched.Spec.Type);
        Assert.Same(listed.Spec.SessionAffinity, watched.Spec.SessionAffinity);
        Assert.Same(listed.Spec.IpFamilyPolicy, watched.Spec.IpFamilyPolicy);
        Assert.Same(listed.Spec.IpFamilies[0], watched.Spec.IpFamilies[0]);
        Assert.Same(listed.Spec.Ports[0].Protocol, watched.Spec.Ports[0].Protocol);
        Assert.Same(watched.Spec.ClusterIP, watched.Spec.ClusterIPs[0]);
        Assert.Equal("TCP", watched.Spec.Ports[0].Protocol);
        await _stop.CancelAsync();
        await run;
    }

#pragma warning disable CS1998 // An iterator that fails before yielding stands in for a dropped connection.
    private static async IAsyncEnumerable<(WatchEventType, V1Pod)> Failing(string resourceVersion)
    {
        throw new HttpRequestException($"connection refused (watch from {resourceVersion})");
#pragma warning disable CS0162
        yield break;
#pragma warning restore CS0162
    }
#pragma warning restore CS1998

    private Task<V1Pod> CreatePodAsync(string name, string app = "test") =>
        Client.CoreV1.CreateNamespacedPodAsync(
            new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = app } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "nginx" }] },
            },
            _ns);

    private Task<V1Service> CreateServiceAsync(string name) =>
        Client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service { Metadata = new V1ObjectMeta { Name = name }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] } },
            _ns);
}
