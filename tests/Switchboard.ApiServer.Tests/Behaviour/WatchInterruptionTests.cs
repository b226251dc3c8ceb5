using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Behaviour;

/// <summary>
/// A watch that the store cannot continue, as kube-apiserver ends it: history compacted under a watch that is
/// replaying it is an ERROR event with 410 Expired; a consumer too slow for the live buffer has its stream closed
/// (as the watch cache closes an unresponsive watcher) and resumes from the last version it got. The consumer is
/// stalled at an exact event by <see cref="HeldWatchStore"/>, so both happen the same way on every run.
/// </summary>
public sealed class WatchInterruptionTests : IAsyncLifetime
{
    private const string Prefix = "/registry/configmaps/default/";
    private readonly TempDirectory _dir = new("sb-watch-cut-");
    private SqliteKeyValueStore? _store;
    private HeldWatchStore? _held;
    private ComponentTestHost? _host;

    private SqliteKeyValueStore Store => _store!;

    private HeldWatchStore Held => _held!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await ServerAndStore.StopAsync(_host, _store);

        _dir.Dispose();
    }

    [Fact]
    public async Task Compacting_the_history_a_watch_is_replaying_ends_it_with_a_410_expired_error_event()
    {
        await StartAsync(new SqliteStoreOptions());
        long from = await Store.GetRevisionAsync();
        // More history than the store replays in one read, so the watch must read it again after the compaction.
        await Task.WhenAll(Enumerable.Range(0, 600).Select(i => CreateConfigMapAsync($"cm-{i}")));

        Held.Hold();
        using var watch = await WatchStream.OpenAsync(_host!.Get<ApiServerService>(), $"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={from}");
        var first = await watch.NextAsync();
        await Store.CompactAsync(await Store.GetRevisionAsync());
        Held.Release();
        var rest = await ReadToEndAsync(watch);

        Assert.Equal("ADDED", first?.Type);
        var (type, status) = rest[^1];
        Assert.Equal("ERROR", type);
        Assert.Equal(("Status", "Failure", 410, "Expired"), (Text(status, "kind"), Text(status, "status"), status["code"]!.GetValue<int>(), Text(status, "reason")));
        Assert.StartsWith($"too old resource version: {from} (", Text(status, "message"), StringComparison.Ordinal);
        var added = rest[..^1];
        Assert.All(added, e => Assert.Equal("ADDED", e.Type));
        Assert.InRange(added.Count, 0, 598);
        var revisions = new[] { first!.Value }.Concat(added).Select(e => Revision(e.Object)).ToList();
        Assert.Equal(revisions.Order(), revisions);
    }

    [Fact]
    public async Task A_watch_too_slow_for_the_live_buffer_is_closed_without_error_and_resumes_from_its_last_version()
    {
        await StartAsync(new SqliteStoreOptions { WatchBufferSize = 8 });
        long from = await Store.GetRevisionAsync();
        using var watch = await WatchStream.OpenAsync(_host!.Get<ApiServerService>(), $"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={from}");
        await Held.Live.WaitAsync(TimeSpan.FromSeconds(20));

        // The consumer takes cm-0 and stalls; twenty more changes overflow its buffer of eight.
        Held.Hold();
        await CreateConfigMapAsync("cm-0");
        var received = new List<(string Type, JsonNode Object)> { (await watch.NextAsync())!.Value };
        for (int i = 1; i <= 20; i++)
        {
            await CreateConfigMapAsync($"cm-{i}");
        }

        Held.Release();
        received.AddRange(await ReadToEndAsync(watch));
        int beforeResume = received.Count;

        // As a client does when its watch closes: watch again from the last version it got.
        using (var resumed = await WatchStream.OpenAsync(_host!.Get<ApiServerService>(), $"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={Revision(received[^1].Object)}"))
        {
            while (Text(received[^1].Object["metadata"]!, "name") != "cm-20")
            {
                received.Add((await resumed.NextAsync()) ?? throw new InvalidOperationException("the resumed watch ended before cm-20"));
            }
        }

        Assert.InRange(beforeResume, 2, 20);
        Assert.All(received, e => Assert.Equal("ADDED", e.Type));
        Assert.Equal(Enumerable.Range(0, 21).Select(i => $"cm-{i}"), received.Select(e => Text(e.Object["metadata"]!, "name")));
    }

    private static string? Text(JsonNode node, string property) => node[property]?.GetValue<string>();

    private static long Revision(JsonNode obj) => long.Parse(Text(obj["metadata"]!, "resourceVersion")!, CultureInfo.InvariantCulture);

    private static async Task<List<(string Type, JsonNode Object)>> ReadToEndAsync(WatchStream watch)
    {
        var events = new List<(string, JsonNode)>();
        while (await watch.NextAsync() is { } next)
        {
            events.Add(next);
        }

        return events;
    }

    private async Task StartAsync(SqliteStoreOptions options)
    {
        _store = SqliteKeyValueStore.Open(_dir.File("state.db"), options);
        _held = new HeldWatchStore(_store, Prefix);
        var held = _held;
        _host = await ComponentTestHost.StartAsync(services => services.AddApiServer(new ApiServerOptions { DataDirectory = _dir.Path, Port = 0 }, held));
    }

    /// <summary>Stores a ConfigMap straight through the store: the watch is under test here, not the create path.</summary>
    private Task CreateConfigMapAsync(string name) => Store.CreateAsync(Prefix + name, ObjectCodec.Encode(new V1ConfigMap
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString(), CreationTimestamp = DateTime.UtcNow },
        Data = new Dictionary<string, string> { ["n"] = name },
    }));
}
