using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Kube.Informers;
using Switchboard.Testing;

namespace Switchboard.Kube.Tests.Informers;

public sealed class SharedInformerSetTests : IClassFixture<InProcessApiServer>, IAsyncLifetime
{
    private readonly InProcessApiServer _server;
    private readonly string _ns = "shared-" + Guid.NewGuid().ToString("N")[..8];

    public SharedInformerSetTests(InProcessApiServer server) => _server = server;

    private IKubernetes Client => _server.Client;

    public async Task InitializeAsync() =>
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = _ns } });

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Two_components_get_one_informer_that_lists_once_and_watches_until_the_last_of_them_stops()
    {
        int lists = 0;
        ListWatch<V1ConfigMap> Counted()
        {
            var real = ListWatches.ConfigMaps(Client);
            return new ListWatch<V1ConfigMap>(ct => { Interlocked.Increment(ref lists); return real.List(ct); }, real.Watch);
        }

        var set = new SharedInformerSet();
        var first = set.Get(Counted, NullLoggerFactory.Instance, TimeProvider.System);
        var second = set.Get(Counted, NullLoggerFactory.Instance, TimeProvider.System);
        var scoped = set.Get(Counted, NullLoggerFactory.Instance, TimeProvider.System, scope: "metadata.name=other");
        Assert.Same(first, second);
        Assert.NotSame(first, scoped);

        var seenByFirst = new ConcurrentQueue<string>();
        var seenBySecond = new ConcurrentQueue<string>();
        first.AddHandler(onAdd: c => seenByFirst.Enqueue(c.Metadata.Name));
        second.AddHandler(onAdd: c => seenBySecond.Enqueue(c.Metadata.Name));
        using var stopFirst = new CancellationTokenSource();
        using var stopSecond = new CancellationTokenSource();
        var firstRun = first.RunAsync(stopFirst.Token);
        var secondRun = second.RunAsync(stopSecond.Token);
        await first.WaitForSyncAsync(CancellationToken.None);

        await CreateAsync("both");
        await Eventually.WaitAsync(() => seenByFirst.Contains("both") && seenBySecond.Contains("both"), "both handlers see the config map");

        // One component stops: the other still follows the collection through the same watch.
        await stopFirst.CancelAsync();
        await firstRun;
        await CreateAsync("after-first-stopped");
        await Eventually.WaitAsync(() => seenBySecond.Contains("after-first-stopped"), "the watch goes on for the second component");
        Assert.Equal(1, lists);

        await stopSecond.CancelAsync();
        await secondRun;
    }

    [Fact]
    public async Task An_index_added_by_a_component_that_comes_after_the_cache_filled_finds_what_is_already_there()
    {
        await CreateAsync("early", colour: "red");
        var set = new SharedInformerSet();
        var informer = set.Get(() => ListWatches.ConfigMaps(Client), NullLoggerFactory.Instance, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(stop.Token);

        var late = set.Get(() => ListWatches.ConfigMaps(Client), NullLoggerFactory.Instance, TimeProvider.System);
        late.Cache.AddIndex("colour", Colour);
        late.Cache.AddIndex("colour", c => ["ignored: the index of that name is already there"]);
        Assert.Equal(["early"], late.Cache.ByIndex("colour", "red").Where(InTestNamespace).Select(c => c.Metadata.Name));

        await CreateAsync("later", colour: "red");
        await Eventually.WaitAsync(() => late.Cache.ByIndex("colour", "red").Count(InTestNamespace) == 2, "the new config map indexed too");
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_resync_one_sharer_asks_for_reaches_its_handlers_and_not_those_that_follow_changes_only()
    {
        await CreateAsync("steady");
        var time = new FakeTimeProvider();
        var set = new SharedInformerSet();
        var changesOnly = set.Get(() => ListWatches.ConfigMaps(Client), NullLoggerFactory.Instance, time);
        var updates = new ConcurrentQueue<string>();
        changesOnly.AddHandler(onUpdate: ResourceEventHandlers.Changes<V1ConfigMap>((_, c) => updates.Enqueue(c.Metadata.Name)));
        using var stop = new CancellationTokenSource();
        var run = changesOnly.RunAsync(stop.Token);
        await changesOnly.WaitForSyncAsync(stop.Token);

        // Asked for once the informer runs: its resync timer takes the period from then on.
        var period = TimeSpan.FromMinutes(10);
        var resyncing = set.Get(() => ListWatches.ConfigMaps(Client), NullLoggerFactory.Instance, time, new InformerOptions { ResyncPeriod = period });
        var resynced = new ConcurrentQueue<string>();
        resyncing.AddHandler(onUpdate: (old, current) =>
        {
            if (ReferenceEquals(old, current))
            {
                resynced.Enqueue(current.Metadata.Name);
            }
        });
        time.Advance(period);

        await Eventually.WaitAsync(() => resynced.Contains("steady"), "a resync update for the unchanged config map");
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"k\":\"changed\"}}", V1Patch.PatchType.MergePatch), "steady", _ns);
        await Eventually.WaitAsync(() => updates.Contains("steady"), "the real update reaches the changes-only handler");
        Assert.Single(updates, name => name == "steady");
        await stop.CancelAsync();
        await run;
    }

    private static IEnumerable<string> Colour(V1ConfigMap c) => c.Metadata.Labels?.TryGetValue("colour", out string? colour) == true ? [colour] : [];

    private bool InTestNamespace(V1ConfigMap c) => c.Metadata.NamespaceProperty == _ns;

    private Task<V1ConfigMap> CreateAsync(string name, string colour = "none") =>
        Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["colour"] = colour } }, Data = new Dictionary<string, string> { ["k"] = "v" } },
            _ns);
}
