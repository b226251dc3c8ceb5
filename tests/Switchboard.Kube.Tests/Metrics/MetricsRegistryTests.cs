using System.Diagnostics.Metrics;
using Switchboard.Kube.Metrics;
using Switchboard.Testing;

namespace Switchboard.Kube.Tests.Metrics;

/// <summary>The process registry renders System.Diagnostics.Metrics instruments and collectors as Prometheus text.</summary>
public sealed class MetricsRegistryTests
{
    [Fact]
    public async Task Counters_gauges_and_histograms_render_by_label_set_in_any_tag_order()
    {
        using var registry = new MetricsRegistry();
        Meter meter = registry.CreateMeter("test");
        Counter<long> requests = meter.CreateCounter<long>("requests_total", description: "Requests.\nBy code.");
        UpDownCounter<long> inFlight = meter.CreateUpDownCounter<long>("in_flight");
        Histogram<double> latency = meter.CreateHistogram(
            "latency_seconds", "s", "Latency.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1] });

        requests.Add(2, new KeyValuePair<string, object?>("code", "200"), new KeyValuePair<string, object?>("verb", "GET"));
        requests.Add(1, new KeyValuePair<string, object?>("verb", "GET"), new KeyValuePair<string, object?>("code", "200"));
        requests.Add(1, new KeyValuePair<string, object?>("code", "4\"04"), new KeyValuePair<string, object?>("verb", "GET"));
        inFlight.Add(3);
        inFlight.Add(-1);
        latency.Record(0.05);
        latency.Record(0.5);
        latency.Record(5);

        string text = await registry.ScrapeAsync(CancellationToken.None);
        PrometheusScrape scrape = PrometheusScrape.Parse(text);

        Assert.Contains("# HELP requests_total Requests.\\nBy code.\n# TYPE requests_total counter\n", text, StringComparison.Ordinal);
        Assert.Equal(3, scrape.Value("requests_total", ("code", "200"), ("verb", "GET")));
        Assert.Equal(1, scrape.Value("requests_total", ("code", "4\"04")));
        Assert.Equal(2, scrape.Value("in_flight"));
        Assert.Equal("gauge", scrape.FamilyTypes["in_flight"]);
        Assert.Equal([1, 2, 3], scrape.Find("latency_seconds_bucket").Select(s => s.Value));
        Assert.Equal(5.55, scrape.Value("latency_seconds_sum"), precision: 9);
    }

    [Fact]
    public async Task Observable_series_are_those_reported_at_the_latest_scrape_and_meters_of_other_registries_are_not_shown()
    {
        using var registry = new MetricsRegistry();
        using var other = new MetricsRegistry();
        string[] queues = ["a", "b"];
        registry.CreateMeter("test").CreateObservableGauge("queue_items", () => queues.Select(q => new Measurement<long>(q.Length, new KeyValuePair<string, object?>("name", q))));
        other.CreateMeter("test").CreateCounter<long>("elsewhere_total").Add(1);
        int refreshed = 0;
        using IDisposable hook = registry.BeforeScrape(_ =>
        {
            refreshed++;
            return Task.CompletedTask;
        });

        PrometheusScrape first = PrometheusScrape.Parse(await registry.ScrapeAsync(CancellationToken.None));
        queues = ["c"];
        PrometheusScrape second = PrometheusScrape.Parse(await registry.ScrapeAsync(CancellationToken.None));

        Assert.Equal(2, first.Find("queue_items").Count);
        Assert.Equal(["c"], second.Find("queue_items").Select(s => s.Labels["name"]));
        Assert.Empty(first.Find("elsewhere_total"));
        Assert.Equal(2, refreshed);
    }

    [Fact]
    public async Task A_collector_writes_its_families_after_the_instruments_until_removed()
    {
        using var registry = new MetricsRegistry();
        registry.CreateMeter("test").CreateCounter<long>("a_total").Add(1);
        IDisposable registration = registry.AddCollector(new FixedCollector("# TYPE z_total counter\nz_total 7\n"));

        PrometheusScrape with = PrometheusScrape.Parse(await registry.ScrapeAsync(CancellationToken.None));
        registration.Dispose();
        PrometheusScrape without = PrometheusScrape.Parse(await registry.ScrapeAsync(CancellationToken.None));

        Assert.Equal(["a_total", "z_total"], with.Samples.Select(s => s.Name));
        Assert.Equal(["a_total"], without.Samples.Select(s => s.Name));
    }

    private sealed class FixedCollector(string text) : IMetricsCollector
    {
        public void WriteTo(TextWriter writer) => writer.Write(text);
    }
}
