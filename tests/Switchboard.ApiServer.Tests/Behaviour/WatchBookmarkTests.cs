using k8s;
using Microsoft.Extensions.Time.Testing;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Behaviour;

/// <summary>Periodic bookmarks on a watch that allows them, driven by a fake clock: never ahead of the events sent.</summary>
public sealed class WatchBookmarkTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private readonly TempDirectory _dir = new("sb-bookmark-");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow); // the serving certificate is dated by it
    private SqliteKeyValueStore? _store;
    private ComponentTestHost? _host;

    private ApiServerService Server => _host!.Get<ApiServerService>();

    public async Task InitializeAsync()
    {
        var store = _store = SqliteKeyValueStore.Open(_dir.File("state.db"));
        _host = await ComponentTestHost.StartAsync(services => services.AddApiServer(new ApiServerOptions { DataDirectory = _dir.Path, Port = 0, WatchBookmarkInterval = Interval }, store), _time);
    }

    public async Task DisposeAsync()
    {
        await ServerAndStore.StopAsync(_host, _store);

        _dir.Dispose();
    }

    [Fact]
    public async Task An_idle_watch_gets_a_bookmark_each_interval_at_the_last_revision_it_was_sent()
    {
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Server.KubeconfigPath));
        var list = await client.CoreV1.ListNamespacedConfigMapAsync("default");
        using var events = await WatchStream.OpenAsync(Server, $"/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion={list.Metadata.ResourceVersion}");

        var opening = await NextAsync(events);
        var created = await client.CoreV1.CreateNamespacedConfigMapAsync(new k8s.Models.V1ConfigMap { Metadata = new k8s.Models.V1ObjectMeta { Name = "tick" } }, "default");
        var added = await NextAsync(events);
        _time.Advance(Interval);
        var periodic = await NextAsync(events);
        _time.Advance(Interval);
        var again = await NextAsync(events);

        Assert.Equal(("BOOKMARK", list.Metadata.ResourceVersion), opening);
        Assert.Equal(("ADDED", created.Metadata.ResourceVersion), added);
        Assert.Equal(("BOOKMARK", created.Metadata.ResourceVersion), periodic);
        Assert.Equal(("BOOKMARK", created.Metadata.ResourceVersion), again);
    }

    private static async Task<(string Type, string? ResourceVersion)> NextAsync(WatchStream events)
    {
        var (type, obj) = await events.NextAsync() ?? throw new InvalidOperationException("the watch ended");
        return (type, obj["metadata"]!["resourceVersion"]?.GetValue<string>());
    }
}
