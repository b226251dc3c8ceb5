namespace Switchboard.LoadGenerator;

internal static class Percentiles
{
    /// <summary>The sample at <paramref name="quantile"/> (nearest rank, sorting <paramref name="samples"/>); NaN when empty.</summary>
    public static double Of(List<double> samples, double quantile)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        samples.Sort();
        return samples[(int)Math.Min(samples.Count - 1, Math.Floor(quantile * samples.Count))];
    }
}
