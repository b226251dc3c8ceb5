using System.Collections.Concurrent;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Selectors;
using Switchboard.ApiServer.Streaming;
using Switchboard.Kube.Selectors;

namespace Switchboard.ApiServer.Usage;

/// <summary>
/// Resource usage of the nodes and their containers, as metrics-server computes it: two scrapes of each node's
/// <c>/metrics/resource</c> through the kubelet client, cpu as the rate of the cumulative counters over the window
/// between them, memory as the later working set. Scraped when asked rather than on a timer: a pair at least
/// <see cref="MinimumWindow"/> apart is reused until it is <see cref="Resolution"/> old, past which (or at the first
/// request) the node is scraped twice, <see cref="MinimumWindow"/> apart.
/// </summary>
internal sealed class NodeUsage(ResourceStore<V1Node> nodes, KubeletClient kubelet, TimeProvider time)
{
    /// <summary>The shortest window a rate is computed over.</summary>
    public static readonly TimeSpan MinimumWindow = TimeSpan.FromSeconds(1);

    /// <summary>metrics-server's default --metric-resolution: a window is never older than this.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<string, NodeSamples> _samples = new(StringComparer.Ordinal);

    /// <summary>The usage window of every node that answers; a node that cannot be scraped is left out, as metrics-server does.</summary>
    public async Task<IReadOnlyList<NodeWindow>> WindowsAsync(CancellationToken cancellationToken)
    {
        var all = await nodes.ListAsync(null, LabelSelector.Everything, FieldSelector.Everything, 0, null, 0, cancellationToken);
        var windows = await Task.WhenAll(all.Items.Select(n => WindowAsync(n, cancellationToken)));
        foreach (string gone in _samples.Keys.Except(all.Items.Select(n => n.Metadata.Name)))
        {
            _samples.TryRemove(gone, out _);
        }

        return [.. windows.OfType<NodeWindow>()];
    }

    private async Task<NodeWindow?> WindowAsync(V1Node node, CancellationToken cancellationToken)
    {
        var samples = _samples.GetOrAdd(node.Metadata.Name, _ => new NodeSamples());
        await samples.Lock.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            if (samples.Latest is not { } latest || samples.Previous is null || now - latest.At >= Resolution)
            {
                var first = await ScrapeAsync(node.Metadata.Name, cancellationToken);
                await Task.Delay(MinimumWindow, time, cancellationToken);
                var second = await ScrapeAsync(node.Metadata.Name, cancellationToken);
                (samples.Previous, samples.Latest) = (first, second);
            }
            else if (now - latest.At >= MinimumWindow)
            {
                (samples.Previous, samples.Latest) = (latest, await ScrapeAsync(node.Metadata.Name, cancellationToken));
            }

            return samples.Previous is { } previous && samples.Latest is { } current ? new NodeWindow(node, previous.Sample, current.Sample) : null;
        }
        catch (ApiException)
        {
            // The node cannot be reached or answered badly: no metrics for it, as metrics-server skips a failed scrape.
            samples.Previous = samples.Latest = null;
            return null;
        }
        finally
        {
            samples.Lock.Release();
        }
    }

    private async Task<Taken> ScrapeAsync(string node, CancellationToken cancellationToken)
    {
        var target = new Uri(await kubelet.LocateAsync(node, cancellationToken), "/metrics/resource");
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        using var response = await kubelet.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw ApiException.Internal($"node {node} answered {(int)response.StatusCode} for /metrics/resource");
        }

        return new Taken(UsageSample.Parse(await response.Content.ReadAsStringAsync(cancellationToken)), time.GetUtcNow());
    }

    /// <summary>A sample and when this server took it.</summary>
    private sealed record Taken(UsageSample Sample, DateTimeOffset At);

    /// <summary>The last two scrapes of one node, one request scraping it at a time.</summary>
    private sealed class NodeSamples
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);

        public Taken? Previous { get; set; }

        public Taken? Latest { get; set; }
    }
}

/// <summary>A node's two scrapes, from which its and its containers' usage over the window between them is computed.</summary>
internal sealed record NodeWindow(V1Node Node, UsageSample Previous, UsageSample Latest)
{
    /// <summary>The node's cpu (cores) and memory (bytes) over the window, with its end time and length; null without node readings.</summary>
    public UsageRate? NodeUsage => Previous.Node is { } before && Latest.Node is { } after ? UsageRate.Between(before, after) : null;

    /// <summary>Each container running through the whole window (same start in both scrapes) with its usage.</summary>
    public IEnumerable<(ContainerKey Key, UsageRate Usage)> Containers()
    {
        foreach (var (key, after) in Latest.Containers)
        {
            if (Previous.Containers.TryGetValue(key, out var before) && before.StartTime == after.StartTime && UsageRate.Between(before.Reading, after.Reading) is { } usage)
            {
                yield return (key, usage);
            }
        }
    }
}

/// <summary>Usage over a window: cpu in cores, memory in bytes, the window's end and length.</summary>
internal sealed record UsageRate(double Cores, double MemoryBytes, DateTimeOffset Timestamp, TimeSpan Window)
{
    public static UsageRate? Between(Reading before, Reading after)
    {
        var window = after.Time - before.Time;
        return window > TimeSpan.Zero && after.CpuSeconds >= before.CpuSeconds
            ? new UsageRate((after.CpuSeconds - before.CpuSeconds) / window.TotalSeconds, after.MemoryBytes, after.Time, window)
            : null;
    }
}
