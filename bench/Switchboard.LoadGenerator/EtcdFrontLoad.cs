using System.Diagnostics;
using System.Globalization;
using Switchboard.Storage;

namespace Switchboard.LoadGenerator;

/// <summary>
/// bench/etcd-front.sh's workload, through the project's etcd client (dotnet-etcd) against whichever etcd v3 endpoint
/// it is given, the front or a real etcd: unconditional puts of fixed-size values from N clients for a fixed time, ranges
/// of a whole prefix of many keys, and single puts timed from their acknowledgement until a watch has their event.
/// Prints one <c>key=value</c> line per figure.
/// </summary>
internal static class EtcdFrontLoad
{
    public static async Task RunAsync(EtcdFrontLoadOptions options, TextWriter output)
    {
        string run = $"/bench/{Guid.NewGuid():N}/";
        var invariant = CultureInfo.InvariantCulture;
        var value = new byte[options.ValueBytes];
        Random.Shared.NextBytes(value);

        // One client (one connection) per writer, as separate processes would have.
        var clients = Enumerable.Range(0, options.Clients).Select(_ => KeyValueStoreFactory.OpenAsync(options.Store, "", null, null, CancellationToken.None)).ToList();
        var stores = await Task.WhenAll(clients);
        try
        {
            long puts = await PutForAsync(stores, run + "put/", value, options.Duration);
            output.WriteLine(string.Create(invariant, $"puts_per_second={puts / options.Duration.TotalSeconds:F0}"));

            var store = stores[0];
            if (options.RangeKeys > 0)
            {
                await Task.WhenAll(Enumerable.Range(0, stores.Length).Select(c => Task.Run(async () =>
                {
                    for (int i = c; i < options.RangeKeys; i += stores.Length)
                    {
                        await stores[c].PutAsync(run + "range/" + i.ToString("D6", invariant), value);
                    }
                })));
                var ranges = new List<double>();
                for (int i = 0; i < 10; i++)
                {
                    long started = Stopwatch.GetTimestamp();
                    var result = await store.RangeAsync(run + "range/", default);
                    ranges.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (result.Items.Count != options.RangeKeys)
                    {
                        throw new InvalidOperationException($"the range had {result.Items.Count} keys, not {options.RangeKeys}");
                    }
                }

                output.WriteLine(string.Create(invariant, $"range_median_ms={Percentiles.Of(ranges, 0.50):F3}"));
            }

            if (options.WatchSamples > 0)
            {
                var latencies = await WatchLatenciesAsync(store, run + "watch/", value, options.WatchSamples);
                output.WriteLine(string.Create(invariant, $"watch_latency_median_ms={Percentiles.Of(latencies, 0.50):F3}"));
                output.WriteLine(string.Create(invariant, $"watch_latency_p99_ms={Percentiles.Of(latencies, 0.99):F3}"));
            }
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    private static async Task<long> PutForAsync(IKeyValueStore[] stores, string prefix, byte[] value, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource(duration);
        var counts = await Task.WhenAll(stores.Select((store, c) => Task.Run(async () =>
        {
            long count = 0;
            while (!stop.IsCancellationRequested)
            {
                await store.PutAsync(prefix + c.ToString(CultureInfo.InvariantCulture) + "/" + (count % 64).ToString(CultureInfo.InvariantCulture), value);
                count++;
            }

            return count;
        })));
        return counts.Sum();
    }

    /// <summary>From a put's acknowledgement to its event on a watch opened before, as etcd's watch latency is read.</summary>
    private static async Task<List<double>> WatchLatenciesAsync(IKeyValueStore store, string prefix, byte[] value, int samples)
    {
        long start = await store.GetRevisionAsync();
        var latencies = new List<double>(samples);
        await using var events = store.WatchAsync(prefix, start).GetAsyncEnumerator();
        for (int i = 0; i < samples; i++)
        {
            var written = await store.PutAsync(prefix + (i % 10).ToString(CultureInfo.InvariantCulture), value);
            long acknowledged = Stopwatch.GetTimestamp();
            do
            {
                if (!await events.MoveNextAsync())
                {
                    throw new InvalidOperationException("the watch ended early");
                }
            }
            while (events.Current.Revision < written.ModRevision);

            // The event may have arrived before the put's answer: then it counts as no wait at all.
            latencies.Add(Math.Max(Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds, 0));
        }

        return latencies;
    }
}
