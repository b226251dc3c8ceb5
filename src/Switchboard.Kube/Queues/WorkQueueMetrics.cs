using System.Diagnostics.Metrics;
using Switchboard.Kube.Metrics;

namespace Switchboard.Kube.Queues;

/// <summary>
/// client-go's work queue metrics, one series per queue by its <c>name</c> label: depth, adds, retries, and how long
/// items wait in the queue and take to process (client-go's buckets, 10ns to 10s by powers of ten).
/// </summary>
public sealed class WorkQueueMetrics
{
    private static readonly double[] DurationBounds = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

    private readonly UpDownCounter<long> _depth;
    private readonly Counter<long> _adds;
    private readonly Counter<long> _retries;
    private readonly Histogram<double> _queueDuration;
    private readonly Histogram<double> _workDuration;

    public WorkQueueMetrics(MetricsRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Meter meter = registry.CreateMeter("Switchboard.Kube.WorkQueue");
        _depth = meter.CreateUpDownCounter<long>("workqueue_depth", description: "Current depth of workqueue");
        _adds = meter.CreateCounter<long>("workqueue_adds_total", description: "Total number of adds handled by workqueue");
        _retries = meter.CreateCounter<long>("workqueue_retries_total", description: "Total number of retries handled by workqueue");
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBounds };
        _queueDuration = meter.CreateHistogram("workqueue_queue_duration_seconds", "s", "How long in seconds an item stays in workqueue before being requested.", tags: null, advice);
        _workDuration = meter.CreateHistogram("workqueue_work_duration_seconds", "s", "How long in seconds processing an item from workqueue takes.", tags: null, advice);
    }

    /// <summary>The series of one queue, present (at zero) from its creation on, as client-go's.</summary>
    internal Queue For(string name)
    {
        var queue = new Queue(this, new KeyValuePair<string, object?>("name", name));
        _depth.Add(0, queue.Tag);
        _adds.Add(0, queue.Tag);
        _retries.Add(0, queue.Tag);
        return queue;
    }

    internal sealed class Queue(WorkQueueMetrics metrics, KeyValuePair<string, object?> tag)
    {
        public KeyValuePair<string, object?> Tag => tag;

        public void Added()
        {
            metrics._adds.Add(1, tag);
            metrics._depth.Add(1, tag);
        }

        public void Taken(TimeSpan waited)
        {
            metrics._depth.Add(-1, tag);
            metrics._queueDuration.Record(waited.TotalSeconds, tag);
        }

        public void Processed(TimeSpan took) => metrics._workDuration.Record(took.TotalSeconds, tag);

        public void Retried() => metrics._retries.Add(1, tag);
    }
}
