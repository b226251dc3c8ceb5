using Microsoft.Extensions.Time.Testing;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.Sqlite;

public sealed class SqliteExpiryTests : IDisposable
{
    private readonly TempDirectory _directory = new("switchboard-sqlite-");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private string StorePath => _directory.File("store.db");

    [Fact]
    public async Task A_key_expires_after_its_time_to_live_like_an_etcd_lease()
    {
        await using var store = Open();
        var leased = await store.PutAsync("/leases/a", Bytes("a"), TimeSpan.FromSeconds(10));
        await store.PutAsync("/leases/forever", Bytes("f"));
        var watch = store.WatchAsync("/leases/", leased.ModRevision + 1).TakeAsync(1);

        _time.Advance(TimeSpan.FromSeconds(9));
        await store.SweepExpiredAsync();
        Assert.NotNull(await store.GetAsync("/leases/a"));

        _time.Advance(TimeSpan.FromSeconds(2));
        var expired = Assert.Single(await watch);
        Assert.Equal(WatchEventType.Deleted, expired.Type);
        Assert.Equal("/leases/a", expired.Current.Key);
        Assert.Equal(3, expired.Revision);
        Assert.Equal(Bytes("a"), expired.Previous!.Value);
        Assert.Null(await store.GetAsync("/leases/a"));
        Assert.NotNull(await store.GetAsync("/leases/forever"));
        Assert.Equal(3, await store.GetRevisionAsync());
    }

    [Fact]
    public async Task Writing_a_key_again_replaces_or_removes_its_time_to_live()
    {
        await using var store = Open();
        var a = await store.PutAsync("/a", Bytes("1"), TimeSpan.FromSeconds(5));
        await store.UpdateAsync("/a", Bytes("2"), a.ModRevision);
        var b = await store.CreateAsync("/b", Bytes("1"), TimeSpan.FromSeconds(5));
        await store.UpdateAsync("/b", Bytes("2"), b.ModRevision, TimeSpan.FromSeconds(60));

        _time.Advance(TimeSpan.FromSeconds(30));
        await store.SweepExpiredAsync();
        Assert.NotNull(await store.GetAsync("/a"));
        Assert.NotNull(await store.GetAsync("/b"));

        _time.Advance(TimeSpan.FromSeconds(31));
        await Eventually.WaitAsync(async () => await store.GetAsync("/b") is null, "/b to expire at 60 s");
        Assert.NotNull(await store.GetAsync("/a"));
    }

    [Fact]
    public async Task Expiry_is_persisted_across_a_restart()
    {
        await using (var store = Open())
        {
            await store.PutAsync("/short", Bytes("s"), TimeSpan.FromSeconds(10));
            await store.PutAsync("/long", Bytes("l"), TimeSpan.FromSeconds(100));
        }

        _time.Advance(TimeSpan.FromSeconds(50));
        await using var reopened = Open();
        await Eventually.WaitAsync(async () => await reopened.GetAsync("/short") is null, "/short, expired while closed, to be deleted");
        Assert.NotNull(await reopened.GetAsync("/long"));

        _time.Advance(TimeSpan.FromSeconds(51));
        await Eventually.WaitAsync(async () => await reopened.GetAsync("/long") is null, "/long to expire at 100 s");
        Assert.Equal(4, await reopened.GetRevisionAsync());
    }

    public void Dispose() => _directory.Dispose();

    private SqliteKeyValueStore Open() =>
        SqliteKeyValueStore.Open(StorePath, new SqliteStoreOptions { CompactionInterval = TimeSpan.Zero }, _time);

}
