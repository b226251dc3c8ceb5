using Switchboard.ApiServer.Allocation;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Allocation;

public sealed class RangeAllocatorTests : IAsyncLifetime
{
    private const string Key = "/registry/ranges/test";
    private readonly TempDirectory _dir = new("sb-alloc-");
    private SqliteKeyValueStore? _store;

    private SqliteKeyValueStore Store => _store!;

    public Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(_dir.File("state.db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Concurrent_allocations_fill_the_range_exactly_once_each_and_then_report_it_full()
    {
        var allocator = new RangeAllocator(Store, Key, "test", size: 40, offset: 8, new Random(1));

        var slots = await Task.WhenAll(Enumerable.Range(0, 41).Select(_ => Task.Run(() => allocator.AllocateNextAsync(dryRun: false, CancellationToken.None))));

        var taken = slots.OfType<int>().ToList();
        Assert.Equal(40, taken.Count);
        Assert.Equal(Enumerable.Range(0, 40), taken.Order());
        Assert.Single(slots, s => s is null);
    }

    [Fact]
    public async Task A_second_allocator_on_the_same_key_sees_the_first_ones_slots_and_a_release()
    {
        var first = new RangeAllocator(Store, Key, "test", size: 16, offset: 0, new Random(1));
        var second = new RangeAllocator(Store, Key, "test", size: 16, offset: 0, new Random(2));

        var mine = await Task.WhenAll(Enumerable.Range(0, 15).Select(_ => first.AllocateNextAsync(dryRun: false, CancellationToken.None)));
        int? last = await second.AllocateNextAsync(dryRun: false, CancellationToken.None);
        Assert.Null(await second.AllocateNextAsync(dryRun: false, CancellationToken.None));
        await first.ReleaseAsync(mine[0]!.Value, CancellationToken.None);
        int? reused = await second.AllocateNextAsync(dryRun: false, CancellationToken.None);

        Assert.DoesNotContain(last, mine);
        Assert.Equal(mine[0], reused);
        Assert.False(await first.TryAllocateAsync(reused!.Value, dryRun: false, CancellationToken.None));
    }
}
