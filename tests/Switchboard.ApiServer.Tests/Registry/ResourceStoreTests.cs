using k8s;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Kinds;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Selectors;
using Switchboard.Kube.Selectors;
using Switchboard.Storage.Sqlite;

namespace Switchboard.ApiServer.Tests.Registry;

/// <summary>
/// The generic registry over the real SQLite store: what a create stamps, optimistic concurrency, deletion and the
/// typed watch through selectors, and a failing store coming out as the Status a client gets.
/// </summary>
public sealed class ResourceStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("sb-resource-store-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, 500, TimeSpan.Zero));
    private SqliteKeyValueStore? _kv;
    private ResourceStore<V1ConfigMap>? _configMaps;
    private ResourceStore<V1Namespace>? _namespaces;

    private SqliteKeyValueStore Kv => _kv!;

    private ResourceStore<V1ConfigMap> ConfigMaps => _configMaps!;

    public async Task InitializeAsync()
    {
        _kv = SqliteKeyValueStore.Open(Path.Combine(_dir, "state.db"));
        var context = new RegistryContext(_kv, _time, new Random(1));
        _namespaces = new ResourceStore<V1Namespace>(ResourceKind<V1Namespace>.Create(new NamespaceStrategy(), namespaced: false), context);
        _configMaps = new ResourceStore<V1ConfigMap>(ResourceKind<V1ConfigMap>.Create(new ConfigMapStrategy(), namespaced: true), context);
        await _namespaces.CreateAsync(null, new V1Namespace { Metadata = new V1ObjectMeta { Name = "default" } }, false, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Kv.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Create_stamps_the_server_owned_metadata_and_get_reads_it_back()
    {
        var created = await ConfigMaps.CreateAsync("default", ConfigMap("settings", ("mode", "fast")), false, CancellationToken.None);
        var read = await ConfigMaps.GetAsync("default", "settings", CancellationToken.None);

        Assert.Equal(("v1", "ConfigMap", "default", 1L), (created.ApiVersion, created.Kind, created.Metadata.NamespaceProperty, created.Metadata.Generation));
        Assert.Equal(new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc), created.Metadata.CreationTimestamp);
        Assert.True(Guid.TryParse(created.Metadata.Uid, out _));
        Assert.Equal((await Kv.GetRevisionAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture), created.Metadata.ResourceVersion);
        Assert.Equal((created.Metadata.Uid, created.Metadata.ResourceVersion, "fast"), (read.Metadata.Uid, read.Metadata.ResourceVersion, read.Data["mode"]));
    }

    [Fact]
    public async Task A_second_create_of_a_name_is_409_already_exists_and_generate_name_makes_a_fresh_one()
    {
        await ConfigMaps.CreateAsync("default", ConfigMap("settings"), false, CancellationToken.None);

        var again = await Assert.ThrowsAsync<ApiException>(() => ConfigMaps.CreateAsync("default", ConfigMap("settings"), false, CancellationToken.None));
        var generated = await ConfigMaps.CreateAsync("default", new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "settings-" } }, false, CancellationToken.None);

        Assert.Equal((409, "AlreadyExists", "configmaps \"settings\" already exists"), (again.Code, again.Status.Reason, again.Message));
        Assert.Matches("^settings-[bcdfghjklmnpqrstvwxz2456789]{5}$", generated.Metadata.Name);
    }

    [Fact]
    public async Task An_update_from_a_stale_resource_version_is_409_conflict_and_from_the_current_one_is_stored()
    {
        var created = await ConfigMaps.CreateAsync("default", ConfigMap("settings", ("mode", "fast")), false, CancellationToken.None);
        var first = ConfigMap("settings", ("mode", "slow"));
        first.Metadata.ResourceVersion = created.Metadata.ResourceVersion;
        var updated = await ConfigMaps.UpdateAsync("default", "settings", first, null, false, CancellationToken.None);

        var stale = ConfigMap("settings", ("mode", "again"));
        stale.Metadata.ResourceVersion = created.Metadata.ResourceVersion;
        var conflict = await Assert.ThrowsAsync<ApiException>(() => ConfigMaps.UpdateAsync("default", "settings", stale, null, false, CancellationToken.None));

        Assert.True(long.Parse(updated.Metadata.ResourceVersion) > long.Parse(created.Metadata.ResourceVersion));
        Assert.Equal((409, "Conflict"), (conflict.Code, conflict.Status.Reason));
        Assert.Equal("Operation cannot be fulfilled on configmaps \"settings\": the object has been modified; please apply your changes to the latest version and try again", conflict.Message);
        Assert.Equal("slow", (await ConfigMaps.GetAsync("default", "settings", CancellationToken.None)).Data["mode"]);
    }

    [Fact]
    public async Task Delete_removes_the_object_and_a_second_delete_is_404()
    {
        await ConfigMaps.CreateAsync("default", ConfigMap("settings"), false, CancellationToken.None);

        var deleted = await ConfigMaps.DeleteAsync("default", "settings", new DeleteRequest(), CancellationToken.None);
        var again = await Assert.ThrowsAsync<ApiException>(() => ConfigMaps.DeleteAsync("default", "settings", new DeleteRequest(), CancellationToken.None));

        Assert.Equal("settings", deleted.Metadata.Name);
        Assert.Null(await ConfigMaps.TryGetAsync("default", "settings", CancellationToken.None));
        Assert.Equal((404, "configmaps \"settings\" not found"), (again.Code, again.Message));
    }

    [Fact]
    public async Task A_create_in_a_missing_namespace_is_404_for_the_namespace()
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => ConfigMaps.CreateAsync("nowhere", ConfigMap("settings"), false, CancellationToken.None));

        Assert.Equal((404, "namespaces \"nowhere\" not found"), (error.Code, error.Message));
    }

    [Fact]
    public async Task A_watch_through_a_label_selector_sees_objects_enter_change_and_leave_the_selection()
    {
        long from = await Kv.GetRevisionAsync();
        var watch = await ConfigMaps.WatchAsync("default", LabelSelector.Parse("app=web"), FieldSelector.Everything, from, progress: false, CancellationToken.None);
        using var stop = new CancellationTokenSource(Deadline);
        var events = watch.Changes.WithCancellation(stop.Token).GetAsyncEnumerator();

        await ConfigMaps.CreateAsync("default", Labelled(ConfigMap("web", ("v", "1")), "web"), false, CancellationToken.None);
        await ConfigMaps.CreateAsync("default", Labelled(ConfigMap("db"), "db"), false, CancellationToken.None);
        await ConfigMaps.UpdateWithAsync("default", "web", null, cm => { cm.Data["v"] = "2"; return cm; }, null, false, CancellationToken.None);
        await ConfigMaps.UpdateWithAsync("default", "web", null, cm => Labelled(cm, "other"), null, false, CancellationToken.None);
        await ConfigMaps.CreateAsync("default", Labelled(ConfigMap("web-2"), "web"), false, CancellationToken.None);
        await ConfigMaps.DeleteAsync("default", "web-2", new DeleteRequest(), CancellationToken.None);

        var seen = new List<(WatchEventType, string, string?)>();
        while (seen.Count < 5 && await events.MoveNextAsync())
        {
            var change = events.Current;
            seen.Add((change.Type, change.Object.Metadata.Name, (change.Object.Data is { } data && data.TryGetValue("v", out string? v) ? v : null)));
        }

        await events.DisposeAsync();
        Assert.Equal(
            [
                (WatchEventType.Added, "web", "1"),
                (WatchEventType.Modified, "web", "2"),
                (WatchEventType.Deleted, "web", "2"),
                (WatchEventType.Added, "web-2", null),
                (WatchEventType.Deleted, "web-2", null),
            ],
            seen);
        Assert.Equal(from, watch.Revision);
        Assert.Empty(watch.Initial);
    }

    [Fact]
    public async Task A_watch_from_now_starts_with_the_selected_objects_at_the_revision_read()
    {
        await ConfigMaps.CreateAsync("default", Labelled(ConfigMap("web"), "web"), false, CancellationToken.None);
        await ConfigMaps.CreateAsync("default", Labelled(ConfigMap("db"), "db"), false, CancellationToken.None);

        var watch = await ConfigMaps.WatchAsync(null, LabelSelector.Parse("app=web"), FieldSelector.Everything, null, progress: false, CancellationToken.None);

        Assert.Equal("web", Assert.Single(watch.Initial).Metadata.Name);
        Assert.Equal(await Kv.GetRevisionAsync(), watch.Revision);
    }

    [Fact]
    public async Task A_watch_from_a_compacted_revision_is_410_expired()
    {
        long old = await Kv.GetRevisionAsync();
        await ConfigMaps.CreateAsync("default", ConfigMap("a"), false, CancellationToken.None);
        await ConfigMaps.CreateAsync("default", ConfigMap("b"), false, CancellationToken.None);
        long now = await Kv.GetRevisionAsync();
        await Kv.CompactAsync(now);

        var error = await Assert.ThrowsAsync<ApiException>(() => ConfigMaps.WatchAsync("default", LabelSelector.Everything, FieldSelector.Everything, old, progress: false, CancellationToken.None));

        Assert.Equal((410, "Expired", $"too old resource version: {old} ({now})"), (error.Code, error.Status.Reason, error.Message));
    }

    [Fact]
    public async Task A_closed_store_is_503_service_unavailable_with_the_store_failure_kept_for_the_log()
    {
        await Kv.DisposeAsync();

        var error = await Assert.ThrowsAsync<ApiException>(() => ConfigMaps.GetAsync("default", "settings", CancellationToken.None));

        Assert.Equal((503, "ServiceUnavailable", "the store is closed"), (error.Code, error.Status.Reason, error.Message));
        Assert.IsType<Switchboard.Storage.StorageException>(error.InnerException);
    }

    private static V1ConfigMap ConfigMap(string name, params (string Key, string Value)[] data) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Data = data.Length == 0 ? null : data.ToDictionary(d => d.Key, d => d.Value),
    };

    private static V1ConfigMap Labelled(V1ConfigMap configMap, string app)
    {
        configMap.Metadata.Labels = new Dictionary<string, string> { ["app"] = app };
        return configMap;
    }
}
