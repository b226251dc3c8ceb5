using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Storage.Compaction;
using Switchboard.Storage.Sqlite;
using Switchboard.Storage.Tests.Support;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.Sqlite;

public sealed class SqliteCompactionTests : IDisposable
{
    private readonly TempDirectory _directory = new("switchboard-sqlite-");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private string StorePath => _directory.File("store.db");

    [Fact]
    public async Task Compaction_keeps_the_latest_version_of_live_keys_and_later_history()
    {
        await using (var store = Open(TimeSpan.Zero))
        {
            for (int i = 1; i <= 5; i++)
            {
                await store.PutAsync("/a", Bytes($"a{i}"));          // revisions 1-5
            }

            await store.PutAsync("/b", Bytes("b"));                   // 6
            await store.DeleteAsync("/b");                            // 7
            await store.PutAsync("/c", Bytes("c"));                   // 8
            await store.PutAsync("/a", Bytes("a6"));                  // 9

            await store.CompactAsync(9);
            Assert.Equal(9, await store.GetCompactedRevisionAsync());

            var again = await Assert.ThrowsAsync<StorageException>(() => store.CompactAsync(9));
            Assert.Equal(StorageError.Compacted, again.Error);
            var future = await Assert.ThrowsAsync<StorageException>(() => store.CompactAsync(10));
            Assert.Equal(StorageError.FutureRevision, future.Error);
            var old = await Assert.ThrowsAsync<StorageException>(() => store.RangeAsync("/", new RangeOptions(Revision: 8)));
            Assert.Equal(StorageError.Compacted, old.Error);
            Assert.Equal(9, old.Revision);
        }

        // What is left in the log: the state just before 9 (/a at 5, /c at 8) and revision 9 itself.
        Assert.Equal([5L, 8L, 9L], LogRevisions());

        await using var reopened = Open(TimeSpan.Zero);
        Assert.Equal(9, await reopened.GetRevisionAsync());
        Assert.Equal(9, await reopened.GetCompactedRevisionAsync());
        var now = await reopened.RangeAsync("/", new RangeOptions(Revision: 9));
        Assert.Equal(["/a=a6", "/c=c"], now.Items.Select(kv => $"{kv.Key}={Encoding.UTF8.GetString(kv.Value)}"));
        var resumed = Assert.Single(await reopened.WatchAsync("/", 8).TakeAsync(1));
        Assert.Equal(Bytes("a5"), resumed.Previous!.Value);
        Assert.Equal(6, resumed.Current.Version);
    }

    [Fact]
    public async Task Compaction_of_much_history_goes_in_chunks_and_keeps_every_live_key()
    {
        await using var store = Open(TimeSpan.Zero);
        for (int i = 0; i < 10_000; i++)
        {
            await store.PutAsync($"/k/{i % 100}", Bytes(i.ToString()));
        }

        await store.CompactAsync(10_000);
        Assert.Equal(100, await store.CountAsync("/k/"));
        Assert.Equal(101, LogRevisions().Count);
        var last = await store.GetAsync("/k/99");
        Assert.Equal(Bytes("9999"), last!.Value);
    }

    [Fact]
    public async Task Automatic_compaction_follows_the_clock()
    {
        var interval = TimeSpan.FromMinutes(5);
        var logs = new CapturingLoggerFactory();
        await using var store = SqliteKeyValueStore.Open(
            StorePath, new SqliteStoreOptions { CompactionInterval = interval }, _time, logs);
        await WriteAsync(store, 5);

        // The compactor's timer runs on the fake clock: advance it an interval at a time until the
        // compaction shows. With no further writes, the revision one interval ago is the last one written.
        await Compactions.AdvanceUntilCompactedAsync(store, _time, interval, 5);
        var compacted = await Assert.ThrowsAsync<StorageException>(() => store.RangeAsync("/", new RangeOptions(Revision: 4)));
        Assert.Equal(StorageError.Compacted, compacted.Error);
        Assert.Equal(5, (await store.RangeAsync("/", new RangeOptions(Revision: 5))).Items[0].Version);

        await WriteAsync(store, 5);
        await Compactions.AdvanceUntilCompactedAsync(store, _time, interval, 10);
        Assert.DoesNotContain(logs.Messages, m => m.Contains("failed", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Each_compactor_tick_keeps_the_last_interval_and_an_idle_tick_is_no_failure()
    {
        await using var store = Open(TimeSpan.Zero);
        await using var compactor = new PeriodicCompactor(store, TimeSpan.FromMinutes(5), _time, NullLogger.Instance);
        await WriteAsync(store, 5);

        Assert.Equal(0, await compactor.TickAsync(CancellationToken.None));
        await WriteAsync(store, 5);
        Assert.Equal(5, await compactor.TickAsync(CancellationToken.None));
        Assert.Equal(5, await store.GetCompactedRevisionAsync());
        Assert.Equal(10, await compactor.TickAsync(CancellationToken.None));
        Assert.Equal(0, await compactor.TickAsync(CancellationToken.None));
        Assert.Equal(10, await store.GetCompactedRevisionAsync());
    }

    public void Dispose() => _directory.Dispose();

    private static async Task WriteAsync(SqliteKeyValueStore store, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await store.PutAsync("/k", Bytes(i.ToString()));
        }
    }

    private SqliteKeyValueStore Open(TimeSpan compactionInterval) =>
        SqliteKeyValueStore.Open(StorePath, new SqliteStoreOptions { CompactionInterval = compactionInterval }, _time);

    private List<long> LogRevisions()
    {
        using var connection = new SqliteConnection($"Data Source={StorePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT revision FROM kv_log ORDER BY revision";
        using var reader = command.ExecuteReader();
        var revisions = new List<long>();
        while (reader.Read())
        {
            revisions.Add(reader.GetInt64(0));
        }

        return revisions;
    }
}
