using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Storage.Compaction;
using Switchboard.Storage.Etcd;
using Switchboard.Storage.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.Storage.Tests.Compaction;

/// <summary>The kube-apiserver-style compactor, on a real etcd, with time driven by the test.</summary>
public sealed class PeriodicCompactorTests(EtcdCluster etcd) : IClassFixture<EtcdCluster>
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    private readonly string _prefix = EtcdCluster.NewPrefix();

    [Fact]
    public async Task Each_tick_compacts_to_the_revision_current_at_the_tick_before()
    {
        await using var store = etcd.OpenStore();
        await using var compactor = new PeriodicCompactor(store, Interval, new FakeTimeProvider(), NullLogger.Instance);
        await store.PutAsync(_prefix + "k", Encoding.UTF8.GetBytes("1"));
        long first = await store.GetRevisionAsync();
        long compactedBefore = await store.GetCompactedRevisionAsync();

        Assert.Equal(0, await compactor.TickAsync(CancellationToken.None));
        Assert.Equal(compactedBefore, await store.GetCompactedRevisionAsync());

        var second = await store.PutAsync(_prefix + "k", Encoding.UTF8.GetBytes("2"));
        Assert.Equal(first, await compactor.TickAsync(CancellationToken.None));
        Assert.Equal(first, await store.GetCompactedRevisionAsync());

        Assert.Equal(second.ModRevision, await compactor.TickAsync(CancellationToken.None));
        Assert.Equal(second.ModRevision, await store.GetCompactedRevisionAsync());
    }

    [Fact]
    public async Task A_store_with_a_compaction_interval_compacts_as_its_clock_advances()
    {
        var clock = new FakeTimeProvider();
        await using var store = EtcdKeyValueStore.Connect(etcd.Location, new EtcdStoreOptions { CompactionInterval = Interval }, clock);
        var written = await store.PutAsync(_prefix + "k", Encoding.UTF8.GetBytes("history"));

        // With no further writes, the revision one interval ago is the one just written.
        await Compactions.AdvanceUntilCompactedAsync(store, clock, Interval, written.ModRevision);

        Assert.Equal("history", Encoding.UTF8.GetString((await store.GetAsync(written.Key))!.Value));
    }
}
