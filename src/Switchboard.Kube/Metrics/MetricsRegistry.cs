using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Switchboard.Kube.Metrics;

/// <summary>
/// The process's metrics, one registry shared by every component in the process: components record through
/// <see cref="System.Diagnostics.Metrics"/> instruments of the meters made here (<see cref="CreateMeter"/>), and a
/// scrape renders everything, in Prometheus text format 0.0.4, plus what hand-written collectors add (DNS's
/// allocation-free counters). Meters made elsewhere (ASP.NET Core's, the runtime's) are not exported.
/// </summary>
public sealed class MetricsRegistry : IDisposable
{
    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<Instrument, MetricFamily> _families = new();
    private readonly ConcurrentDictionary<Meter, byte> _meters = new();
    private readonly ConcurrentDictionary<object, Func<CancellationToken, Task>> _beforeScrape = new();
    private readonly ConcurrentDictionary<IMetricsCollector, byte> _collectors = new();
    private readonly SemaphoreSlim _scrape = new(1, 1);

    public MetricsRegistry()
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, this) && MetricFamily.For(instrument) is { } family)
                {
                    _families[instrument] = family;
                    listener.EnableMeasurementEvents(instrument, family);
                }
            },
            MeasurementsCompleted = (instrument, _) => _families.TryRemove(instrument, out MetricFamily? _),
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>A meter whose instruments this registry exports; instrument names are the Prometheus names.</summary>
    public Meter CreateMeter(string name)
    {
        var meter = new Meter(new MeterOptions(name) { Scope = this });
        _meters.TryAdd(meter, 0);
        return meter;
    }

    /// <summary>Adds a collector that writes its own families at every scrape; disposing the result removes it.</summary>
    public IDisposable AddCollector(IMetricsCollector collector)
    {
        _collectors.TryAdd(collector, 0);
        return new Registration(() => _collectors.TryRemove(collector, out _));
    }

    /// <summary>
    /// Runs <paramref name="refresh"/> before every scrape, for values that take I/O to know (stored object counts),
    /// which observable instruments then report. Disposing the result removes it.
    /// </summary>
    public IDisposable BeforeScrape(Func<CancellationToken, Task> refresh)
    {
        object key = new();
        _beforeScrape[key] = refresh;
        return new Registration(() => _beforeScrape.TryRemove(key, out _));
    }

    /// <summary>Everything in Prometheus text format 0.0.4: families sorted by name, then the collectors' output.</summary>
    public async Task<string> ScrapeAsync(CancellationToken cancellationToken)
    {
        // One scrape at a time: observable instruments clear and refill their series.
        await _scrape.WaitAsync(cancellationToken);
        try
        {
            foreach (Func<CancellationToken, Task> refresh in _beforeScrape.Values)
            {
                await refresh(cancellationToken);
            }

            foreach (MetricFamily family in _families.Values.Where(f => f.IsObservable))
            {
                family.Clear();
            }

            _listener.RecordObservableInstruments();
            var text = new StringBuilder(4096);
            string? previous = null;
            foreach (MetricFamily family in _families.Values.Where(f => !f.IsEmpty).OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                // Two instruments of one name (two meters, e.g. two API servers in one test process) share a header.
                if (family.Name != previous)
                {
                    text.Append("# HELP ").Append(family.Name).Append(' ').Append(PrometheusText.Help(family.Help)).Append('\n');
                    text.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Kind.ToString().ToLowerInvariant()).Append('\n');
                    previous = family.Name;
                }

                family.WriteSeries(text);
            }

            using var writer = new StringWriter(text, System.Globalization.CultureInfo.InvariantCulture);
            foreach (IMetricsCollector collector in _collectors.Keys)
            {
                collector.WriteTo(writer);
            }

            return text.ToString();
        }
        finally
        {
            _scrape.Release();
        }
    }

    public void Dispose()
    {
        foreach (Meter meter in _meters.Keys)
        {
            meter.Dispose();
        }

        _listener.Dispose();
        _scrape.Dispose();
    }

    private sealed class Registration(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }
}
