using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Switchboard.Kube.Metrics;

/// <summary>
/// What one instrument has measured, by label set: counters add, observable instruments report their current value,
/// histograms count into buckets (the instrument's advised bounds, else Prometheus's defaults).
/// </summary>
internal sealed class MetricFamily
{
    private static readonly double[] DefaultBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly ConcurrentDictionary<LabelSet, MetricSeries> _series = new(LabelSetComparer.Instance);
    private readonly ConcurrentDictionary<LabelSet, MetricSeries>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _byTags;
    private readonly double[]? _bounds;
    private readonly bool _sets;

    private MetricFamily(Instrument instrument, MetricKind kind, double[]? bounds, bool sets = false)
    {
        Name = instrument.Name;
        Help = instrument.Description ?? instrument.Name;
        Kind = kind;
        _bounds = bounds;
        _sets = sets || instrument.IsObservable;
        IsObservable = instrument.IsObservable;
        _byTags = _series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    public string Name { get; }

    public string Help { get; }

    public MetricKind Kind { get; }

    /// <summary>Measured only when asked (at a scrape): the series not reported then are gone.</summary>
    public bool IsObservable { get; }

    /// <summary>The family of an instrument of a kind Prometheus can show, or null.</summary>
    public static MetricFamily? For(Instrument instrument)
    {
        Type type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        Type definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
        {
            return new MetricFamily(instrument, MetricKind.Counter, null);
        }

        if (definition == typeof(UpDownCounter<>) || definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>))
        {
            return new MetricFamily(instrument, MetricKind.Gauge, null);
        }

        if (definition == typeof(Gauge<>))
        {
            return new MetricFamily(instrument, MetricKind.Gauge, null, sets: true);
        }

        return instrument is Histogram<double> histogram
            ? new MetricFamily(instrument, MetricKind.Histogram, histogram.Advice?.HistogramBucketBoundaries?.ToArray() ?? DefaultBounds)
            : null;
    }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_byTags.TryGetValue(tags, out MetricSeries? series))
        {
            LabelSet labels = LabelSet.From(tags);
            series = _series.GetOrAdd(labels, static (labels, bounds) => new MetricSeries(labels, bounds), _bounds);
        }

        if (Kind == MetricKind.Histogram)
        {
            series.Observe(value);
        }
        else if (_sets)
        {
            series.Set(value);
        }
        else
        {
            series.Add(value);
        }
    }

    /// <summary>Forgets every series (before an observable instrument reports again).</summary>
    public void Clear() => _series.Clear();

    /// <summary>The series, sorted by their labels, in exposition format; nothing while there are none.</summary>
    public void WriteSeries(StringBuilder text)
    {
        foreach ((string labels, MetricSeries series) in _series.Values.Select(s => (s.Labels.Text, s)).OrderBy(s => s.Item1, StringComparer.Ordinal))
        {
            if (Kind != MetricKind.Histogram)
            {
                text.Append(Name).Append(Braced(labels)).Append(' ').Append(PrometheusText.Number(series.Value)).Append('\n');
                continue;
            }

            long[] cumulative = series.CumulativeBuckets();
            string prefix = labels.Length == 0 ? string.Empty : labels + ",";
            for (int i = 0; i < cumulative.Length; i++)
            {
                string le = i < _bounds!.Length ? PrometheusText.Number(_bounds[i]) : "+Inf";
                text.Append(Name).Append("_bucket{").Append(prefix).Append("le=\"").Append(le).Append("\"} ").Append(cumulative[i]).Append('\n');
            }

            text.Append(Name).Append("_sum").Append(Braced(labels)).Append(' ').Append(PrometheusText.Number(series.Value)).Append('\n');
            text.Append(Name).Append("_count").Append(Braced(labels)).Append(' ').Append(cumulative[^1]).Append('\n');
        }
    }

    /// <summary>Whether there is any series to write.</summary>
    public bool IsEmpty => _series.IsEmpty;

    private static string Braced(string labels) => labels.Length == 0 ? string.Empty : "{" + labels + "}";
}
