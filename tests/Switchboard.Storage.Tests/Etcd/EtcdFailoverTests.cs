using System.Text;
using Switchboard.Storage.Tests.Conformance;
using Xunit.Abstractions;
using Switchboard.Testing;

namespace Switchboard.Storage.Tests.Etcd;

/// <summary>A three-member etcd loses one member at a time; the store goes on through the other two.</summary>
public sealed class EtcdFailoverTests(EtcdClusterOfThree etcd, ITestOutputHelper output) : IClassFixture<EtcdClusterOfThree>
{
    private const int WritesPerOutage = 10;
    private static readonly TimeSpan RejoinDeadline = TimeSpan.FromSeconds(30);

    public enum Outage
    {
        /// <summary>SIGKILL: connections just drop.</summary>
        Crash,

        /// <summary>SIGTERM: the member cancels its streams and steps down.</summary>
        Shutdown,
    }

    [Theory]
    [InlineData(Outage.Crash)]
    [InlineData(Outage.Shutdown)]
    public async Task Writes_reads_and_a_running_watch_go_on_while_any_one_member_is_down(Outage outage)
    {
        var log = new CapturingLoggerFactory();
        try
        {
            await LoseEachMemberInTurnAsync(outage, log);
        }
        finally
        {
            // How the store found its way, for whoever reads a failure.
            foreach (string message in log.Messages)
            {
                output.WriteLine(message);
            }
        }
    }

    private async Task LoseEachMemberInTurnAsync(Outage outage, CapturingLoggerFactory log)
    {
        await using var store = etcd.OpenStore(loggerFactory: log);
        string prefix = EtcdCluster.NewPrefix();
        long start = await store.GetRevisionAsync();
        await using var watch = new WatchCollector(store, prefix, start);
        var written = new List<KeyValue> { await store.PutAsync(prefix + "before", Encoding.UTF8.GetBytes("all up")) };
        await watch.TakeAsync(1, "the write made with every member up");

        // Each member in turn, so the one carrying the watch is certainly among them.
        foreach (var member in etcd.Members)
        {
            if (outage == Outage.Crash)
            {
                member.Kill();
            }
            else
            {
                member.Stop();
            }

            for (int i = 0; i < WritesPerOutage; i++)
            {
                var put = await CreateThroughFailoverAsync(store, $"{prefix}{member.Name}-down/{i}", Encoding.UTF8.GetBytes($"{i}"));
                written.Add(put);
                Assert.Equal(put.ModRevision, (await store.GetAsync(put.Key))!.ModRevision);
            }

            Assert.Equal(WritesPerOutage, (await store.RangeAsync($"{prefix}{member.Name}-down/", new RangeOptions())).Count);
            member.Start();
            await member.WaitHealthyAsync(RejoinDeadline);
        }

        var last = await store.PutAsync(prefix + "after", Encoding.UTF8.GetBytes("all up again"));
        written.Add(last);
        var events = await watch.TakeAsync(written.Count - 1, "every write made while a member was down, and the last one");

        // Nothing lost, nothing twice, in revision order, although the watch moved to another member.
        Assert.Equal(written.Skip(1).Select(kv => (kv.Key, kv.ModRevision)), events.Select(e => (e.Current.Key, e.Revision)));
        Assert.Empty(watch.Drain());
        Assert.Contains(log.Messages, m => m.StartsWith($"Watch of '{prefix}' resumed", StringComparison.Ordinal));
    }

    /// <summary>
    /// A write cut off by a dying member fails as unavailable, and may or may not have been applied (etcd's own
    /// client does not resend it either). A create of a fresh key is safe to send again, and finding the key
    /// with this value then means the first try went through.
    /// </summary>
    private static async Task<KeyValue> CreateThroughFailoverAsync(IKeyValueStore store, string key, byte[] value)
    {
        const int tries = 5;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await store.CreateAsync(key, value);
            }
            catch (StorageException e) when (e.Error == StorageError.Unavailable && attempt < tries)
            {
                // Ambiguous: try again.
            }
            catch (StorageException e) when (e.Error == StorageError.KeyExists && attempt > 1 && e.Current!.Value.AsSpan().SequenceEqual(value))
            {
                return e.Current;
            }
        }
    }
}
