using System.Globalization;

namespace Switchboard.Dns.Operations;

/// <summary>A Prometheus histogram with fixed bounds; observations from any thread, lock-free.</summary>
internal sealed class Histogram(double[] bounds)
{
    private readonly long[] _counts = new long[bounds.Length + 1];
    private long _sumNanoseconds;

    public long Count => _counts.Sum();

    public double[] Bounds => bounds;

    public void Observe(TimeSpan duration) => Observe(duration, 1);

    /// <summary><paramref name="count"/> observations of the same duration (the queries of one UDP batch), at the cost of one.</summary>
    public void Observe(TimeSpan duration, int count)
    {
        double seconds = duration.TotalSeconds;
        int bucket = 0;
        while (bucket < bounds.Length && seconds > bounds[bucket])
        {
            bucket++;
        }

        Interlocked.Add(ref _counts[bucket], count);
        Interlocked.Add(ref _sumNanoseconds, (long)(seconds * 1e9) * count);
    }

    /// <summary>The <c>_bucket</c> (cumulative), <c>_sum</c> and <c>_count</c> lines; <paramref name="labels"/> is empty or <c>k="v",</c>.</summary>
    public void WriteTo(TextWriter writer, string name, string labels) => WriteMerged([this], writer, name, labels);

    /// <summary>Several histograms with the same bounds (stripes of one metric) written as one.</summary>
    public static void WriteMerged(IReadOnlyList<Histogram> parts, TextWriter writer, string name, string labels)
    {
        double[] bounds = parts[0].Bounds;
        long cumulative = 0;
        for (int i = 0; i <= bounds.Length; i++)
        {
            cumulative += parts.Sum(p => Interlocked.Read(ref p._counts[i]));
            string le = i < bounds.Length ? bounds[i].ToString(CultureInfo.InvariantCulture) : "+Inf";
            writer.Write($"{name}_bucket{{{labels}le=\"{le}\"}} {cumulative}\n");
        }

        string bare = labels.Length == 0 ? string.Empty : $"{{{labels.TrimEnd(',')}}}";
        long sum = parts.Sum(p => Interlocked.Read(ref p._sumNanoseconds));
        writer.Write(string.Create(CultureInfo.InvariantCulture, $"{name}_sum{bare} {sum / 1e9}\n"));
        writer.Write($"{name}_count{bare} {cumulative}\n");
    }
}
