namespace Switchboard.Kube.Metrics;

/// <summary>
/// One series' value: a counter or gauge (a double, added to or set, lock-free), or a histogram's bucket counts and
/// sum. Observations from any thread.
/// </summary>
internal sealed class MetricSeries(LabelSet labels, double[]? bounds)
{
    private readonly long[]? _buckets = bounds is null ? null : new long[bounds.Length + 1];
    private long _bits;

    public LabelSet Labels => labels;

    public double Value => BitConverter.Int64BitsToDouble(Volatile.Read(ref _bits));

    public void Add(double value)
    {
        long seen = Volatile.Read(ref _bits);
        while (true)
        {
            long next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
            long found = Interlocked.CompareExchange(ref _bits, next, seen);
            if (found == seen)
            {
                return;
            }

            seen = found;
        }
    }

    public void Set(double value) => Volatile.Write(ref _bits, BitConverter.DoubleToInt64Bits(value));

    /// <summary>Counts <paramref name="value"/> in the first bucket whose bound is at least it; the sum is <see cref="Value"/>.</summary>
    public void Observe(double value)
    {
        double[] upper = bounds!;
        int bucket = 0;
        while (bucket < upper.Length && value > upper[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref _buckets![bucket]);
        Add(value);
    }

    /// <summary>The cumulative counts per bound, the last for +Inf (that is, the count).</summary>
    public long[] CumulativeBuckets()
    {
        long[] cumulative = new long[_buckets!.Length];
        long total = 0;
        for (int i = 0; i < cumulative.Length; i++)
        {
            total += Interlocked.Read(ref _buckets[i]);
            cumulative[i] = total;
        }

        return cumulative;
    }
}
