using System.Diagnostics;
using System.Globalization;
using Switchboard.Storage;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The storage benchmark's workload: concurrent writers doing a mix of creates and compare-and-swap
/// updates for a fixed time, then single writes timed until their watch event arrives.
/// Prints one <c>key=value</c> line per figure for bench/storage.sh.
/// </summary>
internal static class StorageLoad
{
    public static async Task RunAsync(StorageLoadOptions options, TextWriter output)
    {
        await using var store = await KeyValueStoreFactory.OpenAsync(options.Store, options.SqliteFile, loggerFactory: null, etcdOptions: null, CancellationToken.None);
        string run = $"/bench/{Guid.NewGuid():N}/";

        var (writes, writeLatencies) = await WriteForAsync(store, run + "load/", options);
        double seconds = options.Duration.TotalSeconds;
        var watchLatencies = await WatchLatenciesAsync(store, run + "watch/", options);

        var invariant = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(invariant, $"writes={writes}"));
        output.WriteLine(string.Create(invariant, $"writes_per_second={writes / seconds:F0}"));
        output.WriteLine(string.Create(invariant, $"write_latency_median_ms={Percentiles.Of(writeLatencies, 0.50):F3}"));
        output.WriteLine(string.Create(invariant, $"write_latency_p99_ms={Percentiles.Of(writeLatencies, 0.99):F3}"));
        output.WriteLine(string.Create(invariant, $"watch_latency_median_ms={Percentiles.Of(watchLatencies, 0.50):F3}"));
        output.WriteLine(string.Create(invariant, $"watch_latency_p99_ms={Percentiles.Of(watchLatencies, 0.99):F3}"));
    }

    private static async Task<(long Writes, List<double> Latencies)> WriteForAsync(IKeyValueStore store, string prefix, StorageLoadOptions options)
    {
        var value = new byte[options.ValueBytes];
        Random.Shared.NextBytes(value);
        using var stop = new CancellationTokenSource(options.Duration);
        var perWriter = await Task.WhenAll(Enumerable.Range(0, options.Writers).Select(writer => Task.Run(async () =>
        {
            // Each writer owns its keys, so every compare-and-swap succeeds and the figure is pure store cost.
            var owned = new List<KeyValue>();
            var random = new Random(writer);
            var latencies = new List<double>();
            while (!stop.IsCancellationRequested)
            {
                long started = Stopwatch.GetTimestamp();
                if (owned.Count < 8 || random.Next(2) == 0)
                {
                    owned.Add(await store.CreateAsync($"{prefix}{writer}/{owned.Count}", value));
                }
                else
                {
                    int index = random.Next(owned.Count);
                    owned[index] = await store.UpdateAsync(owned[index].Key, value, owned[index].ModRevision);
                }

                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            return latencies;
        })));

        var all = perWriter.SelectMany(l => l).ToList();
        return (all.Count, all);
    }

    private static async Task<List<double>> WatchLatenciesAsync(IKeyValueStore store, string prefix, StorageLoadOptions options)
    {
        var value = new byte[options.ValueBytes];
        long start = await store.GetRevisionAsync();
        var latencies = new List<double>(options.WatchSamples);
        await using var events = store.WatchAsync(prefix, start).GetAsyncEnumerator();
        for (int i = 0; i < options.WatchSamples; i++)
        {
            long started = Stopwatch.GetTimestamp();
            var written = await store.PutAsync(prefix + (i % 10).ToString(CultureInfo.InvariantCulture), value);
            do
            {
                if (!await events.MoveNextAsync())
                {
                    throw new InvalidOperationException("the watch ended early");
                }
            }
            while (events.Current.Revision < written.ModRevision);

            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return latencies;
    }
}
