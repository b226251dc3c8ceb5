using Microsoft.Extensions.Logging;
using Switchboard.Storage;

namespace Switchboard.Dns.SkyDns;

/// <summary>
/// Keeps a <see cref="SkyDnsZone"/> equal to the store's keys under the SkyDNS prefix: a paged Range at one
/// revision, then a Watch from it. A compacted or cancelled watch, or a failing store, leads to a fresh Range
/// (after a pause when the store failed).
/// </summary>
internal sealed class SkyDnsWatcher(IKeyValueStore store, SkyDnsZone zone, string prefix, TimeProvider time, ILogger logger)
{
    private const int PageSize = 1000;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string keys = prefix + "/";
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                long revision = await LoadAsync(keys, cancellationToken);
                SkyDnsLog.Loaded(logger, zone.Count, revision);
                await foreach (WatchEvent change in store.WatchAsync(keys, revision, cancellationToken))
                {
                    if (change.Type == WatchEventType.Deleted)
                    {
                        zone.Remove(change.Current.Key);
                    }
                    else
                    {
                        zone.Set(change.Current.Key, change.Current.Value);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (StorageException e) when (e.Error is StorageError.Compacted or StorageError.WatchCanceled)
            {
                SkyDnsLog.Relisting(logger, e.Error);
            }
            catch (Exception e) when (e is StorageException or IOException or InvalidOperationException)
            {
                SkyDnsLog.StoreFailed(logger, e);
                await Task.Delay(RetryDelay, time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task<long> LoadAsync(string keys, CancellationToken cancellationToken)
    {
        var items = new List<(string, byte[])>();
        RangeResult page = await store.RangeAsync(keys, new RangeOptions(Limit: PageSize), cancellationToken);
        long revision = page.Revision;
        while (true)
        {
            items.AddRange(page.Items.Select(kv => (kv.Key, kv.Value)));
            if (!page.More || page.Items.Count == 0)
            {
                break;
            }

            page = await store.RangeAsync(keys, new RangeOptions(Limit: PageSize, Revision: revision, StartAfter: page.Items[^1].Key), cancellationToken);
        }

        zone.ReplaceAll(items);
        return revision;
    }
}
